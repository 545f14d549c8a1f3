package dev.unetlens.io;

import java.util.Optional;

/**
 * Element types of safetensors files (the reference reader's whitelist) with their size in bytes and, where numpy
 * has one, the numpy {@code descr} string.
 */
public enum DType {
    BOOL(1, "|b1"),
    U8(1, "|u1"),
    I8(1, "|i1"),
    F8_E5M2(1, null),
    F8_E4M3(1, null),
    I16(2, "<i2"),
    U16(2, "<u2"),
    F16(2, "<f2"),
    BF16(2, null),
    I32(4, "<i4"),
    U32(4, "<u4"),
    F32(4, "<f4"),
    F64(8, "<f8"),
    I64(8, "<i8"),
    U64(8, "<u8");

    private final int size;
    private final String numpyDescr;

    DType(int size, String numpyDescr) {
        this.size = size;
        this.numpyDescr = numpyDescr;
    }

    /** Bytes per element. */
    public int size() {
        return size;
    }

    /** The numpy descr ({@code <f4}), empty where numpy has no such type (bf16, fp8). */
    public Optional<String> numpyDescr() {
        return Optional.ofNullable(numpyDescr);
    }

    /** True for the floating types that load as float32 (F16, BF16, F32, F64). */
    public boolean isFloat() {
        return this == F16 || this == BF16 || this == F32 || this == F64;
    }

    /** Parses a safetensors dtype name exactly as written in a header ({@code "F32"}), empty if not whitelisted. */
    public static Optional<DType> fromSafetensors(String name) {
        for (DType d : values()) {
            if (d.name().equals(name)) {
                return Optional.of(d);
            }
        }
        return Optional.empty();
    }

    /**
     * Parses a numpy descr ({@code <f4}, {@code |u1}, {@code <i8}, ...); empty when unsupported. Type codes are
     * case-sensitive ({@code <U4} is a unicode string, not uint32); {@code =} (native order, little-endian on
     * the platforms unetlens runs on) reads as {@code <}; one-byte types may carry any order character.
     */
    public static Optional<DType> fromNumpy(String descr) {
        if (descr.length() != 3 || "<>|=".indexOf(descr.charAt(0)) < 0) {
            return Optional.empty();
        }
        char order = descr.charAt(0);
        boolean oneByte = descr.charAt(2) == '1';
        String normalized = (oneByte ? "|" : order == '=' ? "<" : String.valueOf(order)) + descr.substring(1);
        for (DType t : values()) {
            if (normalized.equals(t.numpyDescr)) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }
}

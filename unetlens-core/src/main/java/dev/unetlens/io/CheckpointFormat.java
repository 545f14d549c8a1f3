package dev.unetlens.io;

import dev.unetlens.UnetlensException;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * What a weight file is, told from its first bytes by each format's structure, never by its name or a two-byte
 * guess: a safetensors file is tested first (a little-endian header length that fits the file, then a header that
 * opens a JSON object), so that a header length whose low bytes happen to read {@code 80 02} stays safetensors; only
 * a file that is not is looked at as a zip archive ({@code PK\3\4}, PyTorch's format since 1.6), a pickle of
 * protocol 2 to 5 ({@code \x80} and the protocol), or a protocol 0/1 pickle, whose opcodes are walked up to its
 * {@code STOP}. Pickles can run code when loaded by Python; unetlens reads PyTorch's with its own restricted reader
 * ({@link dev.unetlens.io.pickle.TorchCheckpoint}) and never runs them.
 */
public enum CheckpointFormat {
    /** A safetensors file, by its structure (its header may still break the format's rules). */
    SAFETENSORS("safetensors"),
    /** A zip archive: PyTorch's checkpoint format (a pickle and its storages). */
    TORCH_ZIP("a PyTorch zip checkpoint"),
    /** A raw Python pickle (PyTorch's legacy checkpoint format, or any pickle). */
    PICKLE("a Python pickle"),
    /** None of these. */
    UNKNOWN("not a known weight format");

    /** How many leading bytes {@link #of} looks at. */
    public static final int HEAD_BYTES = 4096;

    private final String description;

    CheckpointFormat(String description) {
        this.description = description;
    }

    public String description() {
        return description;
    }

    /** Whether the file is a pickle (raw, or zipped by torch.save), for the restricted reader rather than safetensors. */
    public boolean isPickle() {
        return this == TORCH_ZIP || this == PICKLE;
    }

    /**
     * The format of a file of {@code size} bytes whose first bytes are {@code head} (at most {@link #HEAD_BYTES};
     * fewer only when the file is shorter).
     */
    public static CheckpointFormat of(byte[] head, long size) {
        if (isSafetensors(head, size)) {
            return SAFETENSORS;
        }
        if (head.length >= 4 && head[0] == 'P' && head[1] == 'K' && (head[2] == 3 && head[3] == 4
                || head[2] == 5 && head[3] == 6)) {
            return TORCH_ZIP;
        }
        if (head.length >= 2 && (head[0] & 0xff) == 0x80 && head[1] >= 2 && head[1] <= 5) {
            return PICKLE;
        }
        return PickleOpcodes.wellFormed(head) ? PICKLE : UNKNOWN;
    }

    /** A header length N with 2 ≤ N ≤ the reference's limit and 8 + N ≤ size, then JSON opening an object. */
    private static boolean isSafetensors(byte[] head, long size) {
        if (head.length < 9) {
            return false;
        }
        long n = ByteBuffer.wrap(head, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        if (n < 2 || n > SafetensorsFile.MAX_HEADER_BYTES || n > size - 8) {
            return false;
        }
        for (int i = 8; i < head.length && i < 8 + n; i++) {
            byte b = head[i];
            if (b != ' ' && b != '\t' && b != '\n' && b != '\r') {
                return b == '{';
            }
        }
        return false;
    }

    /**
     * The one-line refusal of a pickle or zip checkpoint where a safetensors file is required (a shard, a dump), with
     * the command that converts it.
     */
    public UnetlensException refusal(Path file) {
        return refusal(file, description);
    }

    /** {@link #refusal(Path)} for a file that is {@code what} ({@code "a Python pickle"}). */
    public static UnetlensException refusal(Path file, String what) {
        return new UnetlensException(file + ": " + what + ", not safetensors; unetlens reads such checkpoints as"
                + " models (--model) without running their code, and converts them with: unetlens convert --model "
                + file + " --out DIR");
    }

    /** Walks a protocol 0/1 pickle's opcodes ({@code pickletools}' table) without running anything. */
    private static final class PickleOpcodes {
        /** Opcodes without an argument. */
        private static final String BARE = "(.012NRabd}el])tsuoQ";
        /** Opcodes with one newline-terminated argument. */
        private static final String LINE = "FILSVgpP";
        /** Opcodes with two newline-terminated arguments (module and name). */
        private static final String TWO_LINES = "ci";
        /** An argument that runs past the bytes looked at. */
        private static final int CUT = Integer.MAX_VALUE;
        /** Well-formed opcodes that make a pickle whose STOP lies past the bytes looked at. */
        private static final int LONG_PICKLE = 32;

        private PickleOpcodes() {
        }

        /**
         * Whether {@code b} starts a pickle: at least two well-formed opcodes up to STOP, or {@value #LONG_PICKLE}
         * of them up to the end of {@code b}.
         */
        static boolean wellFormed(byte[] b) {
            int i = 0;
            int count = 0;
            while (i < b.length) {
                char op = (char) (b[i++] & 0xff);
                count++;
                if (op == '.') {
                    return count >= 2;
                }
                int next = argumentEnd(b, i, op);
                if (next < 0) {
                    return false;
                }
                if (next == CUT) {
                    break;
                }
                i = next;
            }
            return count >= LONG_PICKLE;
        }

        /**
         * Where the argument of {@code op} at {@code i} ends: -1 when {@code op} is no opcode or its argument is ill
         * formed, {@link #CUT} when it runs past the end of {@code b}.
         */
        private static int argumentEnd(byte[] b, int i, char op) {
            if (BARE.indexOf(op) >= 0) {
                return i;
            }
            if (LINE.indexOf(op) >= 0) {
                return line(b, i, op);
            }
            if (TWO_LINES.indexOf(op) >= 0) {
                int end = line(b, i, op);
                return end < 0 || end == CUT ? end : line(b, end, op);
            }
            return switch (op) {
                case 'K', 'h', 'q' -> fixed(b, i, 1);
                case 'M' -> fixed(b, i, 2);
                case 'J', 'j', 'r' -> fixed(b, i, 4);
                case 'G' -> fixed(b, i, 8);
                case 'U' -> i < b.length ? fixed(b, i + 1, b[i] & 0xff) : CUT;
                case 'T', 'X' -> i + 4 <= b.length
                        ? fixed(b, i + 4, ByteBuffer.wrap(b, i, 4).order(ByteOrder.LITTLE_ENDIAN).getInt()) : CUT;
                default -> -1;
            };
        }

        private static int fixed(byte[] b, int i, long n) {
            return n < 0 ? -1 : i + n <= b.length ? (int) (i + n) : CUT;
        }

        /** The end of a newline-terminated argument, checked for its opcode (numbers are numbers, names are names). */
        private static int line(byte[] b, int i, char op) {
            int nl = i;
            while (nl < b.length && b[nl] != '\n') {
                nl++;
            }
            if (nl == b.length) {
                return CUT;
            }
            String arg = new String(b, i, nl - i, StandardCharsets.ISO_8859_1);
            boolean ok = switch (op) {
                case 'I', 'g', 'p' -> arg.matches("-?[0-9]+");
                case 'L' -> arg.matches("-?[0-9]+L?");
                case 'F' -> arg.matches("[-+0-9.eEinfa]+");
                case 'S' -> arg.length() >= 2 && (arg.charAt(0) == '\'' || arg.charAt(0) == '"');
                case 'c', 'i' -> arg.matches("[A-Za-z_][A-Za-z0-9_.]*");
                default -> true;   // V (raw-unicode-escape text), P (persistent id)
            };
            return ok ? nl + 1 : -1;
        }
    }
}

package dev.unetlens.tokenizer;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * The reversible byte ↔ character table of byte-level BPE: transformers {@code tokenization_clip.py
 * bytes_to_unicode()} (the same table as OpenAI CLIP and GPT-2). The 188 printable bytes {@code !..~},
 * {@code ¡..¬}, {@code ®..ÿ} stand for themselves; the other 68 bytes map, in byte order, to U+0100..U+0143,
 * so a space (0x20) is {@code Ġ} and a newline {@code Ċ}. Every vocabulary entry is spelled in these characters.
 */
final class ByteLevel {
    /** The 256 characters in the table's own order (printable bytes first): the first 256 vocabulary entries. */
    static final String ALPHABET;
    private static final char[] BYTE_TO_CHAR = new char[256];
    private static final int[] CHAR_TO_BYTE = new int[256 + 68];

    static {
        StringBuilder order = new StringBuilder(256);
        for (int b = 0; b < 256; b++) {
            if (printable(b)) {
                BYTE_TO_CHAR[b] = (char) b;
                order.append((char) b);
            }
        }
        int n = 0;
        for (int b = 0; b < 256; b++) {
            if (!printable(b)) {
                BYTE_TO_CHAR[b] = (char) (256 + n++);
                order.append(BYTE_TO_CHAR[b]);
            }
        }
        ALPHABET = order.toString();
        Arrays.fill(CHAR_TO_BYTE, -1);
        for (int b = 0; b < 256; b++) {
            CHAR_TO_BYTE[BYTE_TO_CHAR[b]] = b;
        }
    }

    private ByteLevel() {
    }

    private static boolean printable(int b) {
        return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    }

    /** The UTF-8 bytes of {@code text}, one table character per byte. */
    static String encode(String text) {
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        char[] out = new char[utf8.length];
        for (int i = 0; i < utf8.length; i++) {
            out[i] = BYTE_TO_CHAR[utf8[i] & 0xFF];
        }
        return new String(out);
    }

    /** Whether every character of {@code s} is in the table. */
    static boolean isEncoded(CharSequence s) {
        return s.chars().allMatch(c -> c < CHAR_TO_BYTE.length && CHAR_TO_BYTE[c] >= 0);
    }

    /** The bytes that {@code s} (all table characters, see {@link #isEncoded}) stands for. */
    static byte[] decode(CharSequence s) {
        byte[] out = new byte[s.length()];
        for (int i = 0; i < out.length; i++) {
            char c = s.charAt(i);
            if (c >= CHAR_TO_BYTE.length || CHAR_TO_BYTE[c] < 0) {
                throw new IllegalArgumentException(
                        "character U+%04X at %d is not byte-level encoded".formatted((int) c, i));
            }
            out[i] = (byte) CHAR_TO_BYTE[c];
        }
        return out;
    }

    /**
     * UTF-8 text of {@code bytes} for a label: well-formed sequences as characters, every byte that is not part of
     * one (a character split across two BPE tokens) as {@code <0xE6>}, so no information is hidden by U+FFFD.
     */
    static String readable(byte[] bytes) {
        CharsetDecoder dec = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length);
        StringBuilder sb = new StringBuilder();
        while (in.hasRemaining()) {
            var result = dec.decode(in, out, true);
            out.flip();
            sb.append(out);
            out.clear();
            if (result.isError()) {
                for (int i = 0; i < result.length(); i++) {
                    sb.append("<0x").append(HexFormat.of().withUpperCase().toHexDigits(in.get())).append('>');
                }
            }
        }
        return sb.toString();
    }
}

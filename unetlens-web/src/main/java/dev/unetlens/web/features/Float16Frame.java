package dev.unetlens.web.features;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.web.Json;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Values for the browser: a 4-byte little-endian length n, n bytes of a UTF-8 JSON header, padding to a multiple of
 * 2, then the values as IEEE half floats (little-endian), which a page reads with a {@code Uint16Array} (or
 * {@code Float16Array}). Half the bytes of float32, exact to 3 significant digits: enough to show a value under
 * the cursor and to compute maps in the browser.
 */
public final class Float16Frame {
    private Float16Frame() {
    }

    public static byte[] encode(ObjectNode header, float[] values) {
        byte[] json;
        try {
            json = Json.MAPPER.writeValueAsBytes(header);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        int pad = (4 + json.length) % 2;
        ByteBuffer b = ByteBuffer.allocate(4 + json.length + pad + 2 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(json.length + pad).put(json);
        if (pad == 1) {
            b.put((byte) ' ');
        }
        for (float v : values) {
            b.putShort(Float.floatToFloat16(v));
        }
        return b.array();
    }

    /** Decodes a frame (for tests and Java clients): the header and the values as float. */
    public static Decoded decode(byte[] frame) {
        ByteBuffer b = ByteBuffer.wrap(frame).order(ByteOrder.LITTLE_ENDIAN);
        int n = b.getInt();
        byte[] json = new byte[n];
        b.get(json);
        float[] v = new float[b.remaining() / 2];
        for (int i = 0; i < v.length; i++) {
            v[i] = Float.float16ToFloat(b.getShort());
        }
        try {
            return new Decoded((ObjectNode) Json.MAPPER.readTree(json), v);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public record Decoded(ObjectNode header, float[] values) {
    }
}

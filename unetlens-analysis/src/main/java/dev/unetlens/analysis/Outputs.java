package dev.unetlens.analysis;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.io.DType;
import dev.unetlens.io.Npy;
import dev.unetlens.io.NpyArray;
import dev.unetlens.io.OutputDirectory;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/** How analyses write their files: {@code results.json}, float64 {@code .npy} arrays, names from module paths. */
public final class Outputs {
    public static final String RESULTS = "results.json";
    private static final ObjectMapper JSON = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();

    private Outputs() {
    }

    /** Writes {@code results.json} (atomically, listed in the manifest). */
    public static void writeResults(OutputDirectory out, ObjectNode results) {
        out.write(RESULTS, o -> o.write(JSON.writeValueAsBytes(results)), "the analysis' numbers, with units and the request");
    }

    /** Writes any JSON document (atomically, listed in the manifest). */
    public static ObjectNode writeJson(OutputDirectory out, String name, ObjectNode json, String description) {
        return out.write(name, o -> o.write(JSON.writeValueAsBytes(json)), description);
    }

    /** Writes a float64 array; returns its manifest entry (with {@code shape}). */
    public static ObjectNode writeNpy(OutputDirectory out, String name, long[] shape, double[] values, String description) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        b.asDoubleBuffer().put(values);
        NpyArray a = new NpyArray(DType.F64, shape, b);
        ObjectNode e = out.write(name, o -> o.write(Npy.toBytes(a)), description);
        e.put("dtype", "float64");
        e.set("shape", shapeJson(shape));
        out.saveManifest();
        return e;
    }

    /** Writes a float32 array (for large ones: the all-tokens matrix). */
    public static ObjectNode writeNpy(OutputDirectory out, String name, long[] shape, float[] values, String description) {
        NpyArray a = NpyArray.ofFloats(shape, values);
        ObjectNode e = out.write(name, o -> o.write(Npy.toBytes(a)), description);
        e.put("dtype", "float32");
        e.set("shape", shapeJson(shape));
        out.saveManifest();
        return e;
    }

    public static ArrayNode shapeJson(long[] shape) {
        ArrayNode a = JsonNodeFactory.instance.arrayNode();
        Arrays.stream(shape).forEach(a::add);
        return a;
    }

    /** A module path as a file stem: {@code up_blocks.1.attentions.0} stays, ':' becomes '-'. */
    public static String stem(String module) {
        return module.replace(':', '-').replace('/', '_');
    }

    /** Numbers as a JSON array (NaN and infinities as null, which JSON has no words for). */
    public static ArrayNode array(double[] values) {
        ArrayNode a = JsonNodeFactory.instance.arrayNode();
        for (double v : values) {
            if (Double.isFinite(v)) {
                a.add(v);
            } else {
                a.addNull();
            }
        }
        return a;
    }

    /** Puts a number, or null where it is NaN or infinite (Jackson would write the string "NaN"). */
    public static void put(ObjectNode o, String field, double v) {
        if (Double.isFinite(v)) {
            o.put(field, v);
        } else {
            o.putNull(field);
        }
    }

    /** Rows of numbers as a JSON array of arrays. */
    public static ArrayNode array(double[][] rows) {
        ArrayNode a = JsonNodeFactory.instance.arrayNode();
        for (double[] r : rows) {
            a.add(array(r));
        }
        return a;
    }

    /** {@code {"unit": …, "values": …}}: a quantity as results.json states it. */
    public static ObjectNode quantity(String unit, com.fasterxml.jackson.databind.JsonNode values) {
        ObjectNode q = JsonNodeFactory.instance.objectNode();
        q.put("unit", unit);
        q.set("values", values);
        return q;
    }
}

package dev.unetlens.spark;

import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import java.util.ArrayList;
import java.util.List;

/**
 * The batch's Parquet tables under {@code tables/}, each written a chunk of images at a time ({@code chunk=N}):
 * <ul>
 * <li>{@code features}: a row per (image, module, timestep, sample) with the per-image reductions, and with more
 * than one draw a row per (image, module, timestep) whose sample is null: the dispersion over the draws;</li>
 * <li>{@code anomalies}: a row per anomaly candidate (a patch the detector finds in a norm map);</li>
 * <li>{@code tokens} ({@code --probe}): a row per (image, module) with every token of draw 0 at the first timestep,
 * token-major [H·W·C] float32, the positional probe's inputs;</li>
 * <li>{@code errors}: a row per image that could not be used, with its one-line reason;</li>
 * <li>{@code done}: a row per image of each committed chunk (written last: a chunk without it is not committed).</li>
 * </ul>
 * The executors emit one row type, {@link #ROW}, with a {@code kind} column; each table is its kind's columns.
 */
public final class Tables {
    public static final String FEATURES = "features";
    public static final String ANOMALIES = "anomalies";
    public static final String ERRORS = "errors";
    public static final String TOKENS = "tokens";
    public static final String DONE = "done";

    /** The columns every row has. */
    static final List<String> KEY = List.of("path", "label", "prompt", "seed");
    static final List<String> FEATURE_COLUMNS = List.of("module", "timestep", "sample", "channels", "height", "width",
            "channel_mean_abs", "norm_mean", "norm_std", "group_plain_sums", "group_plain_counts", "group_ring_sums",
            "group_ring_counts", "group_cropped_sums", "group_cropped_counts", "anomaly_ratios", "pooled", "tensor_file",
            "dispersion_mean", "dispersion_map");
    static final List<String> ANOMALY_COLUMNS = List.of("module", "timestep", "sample", "height", "width", "row", "col",
            "rows", "cols", "tokens", "ratio", "peak");
    static final List<String> ERROR_COLUMNS = List.of("error");
    static final List<String> TOKEN_COLUMNS = List.of("module", "timestep", "sample", "channels", "height", "width",
            "token_values");

    /** The row the executors emit (index order = {@link #ROW}'s fields). */
    public static final StructType ROW = new StructType(fields());

    private Tables() {
    }

    private static StructField[] fields() {
        List<StructField> f = new ArrayList<>();
        f.add(field("kind", DataTypes.StringType));
        f.add(field("path", DataTypes.StringType));
        f.add(field("label", DataTypes.StringType));
        f.add(field("prompt", DataTypes.StringType));
        f.add(field("seed", DataTypes.LongType));
        f.add(field("module", DataTypes.StringType));
        f.add(field("timestep", DataTypes.IntegerType));
        f.add(field("sample", DataTypes.IntegerType));
        f.add(field("channels", DataTypes.IntegerType));
        f.add(field("height", DataTypes.IntegerType));
        f.add(field("width", DataTypes.IntegerType));
        f.add(field("channel_mean_abs", DataTypes.createArrayType(DataTypes.FloatType, false)));
        f.add(field("norm_mean", DataTypes.DoubleType));
        f.add(field("norm_std", DataTypes.DoubleType));
        for (String v : List.of("plain", "ring", "cropped")) {
            f.add(field("group_" + v + "_sums", DataTypes.createArrayType(DataTypes.DoubleType, false)));
            f.add(field("group_" + v + "_counts", DataTypes.createArrayType(DataTypes.LongType, false)));
        }
        f.add(field("anomaly_ratios", DataTypes.createArrayType(DataTypes.DoubleType, false)));
        f.add(field("pooled", DataTypes.createArrayType(DataTypes.FloatType, false)));
        f.add(field("tensor_file", DataTypes.StringType));
        f.add(field("dispersion_mean", DataTypes.DoubleType));
        f.add(field("dispersion_map", DataTypes.createArrayType(DataTypes.DoubleType, false)));
        f.add(field("row", DataTypes.IntegerType));
        f.add(field("col", DataTypes.IntegerType));
        f.add(field("rows", DataTypes.IntegerType));
        f.add(field("cols", DataTypes.IntegerType));
        f.add(field("tokens", DataTypes.IntegerType));
        f.add(field("ratio", DataTypes.DoubleType));
        f.add(field("peak", DataTypes.DoubleType));
        f.add(field("error", DataTypes.StringType));
        f.add(field("token_values", DataTypes.createArrayType(DataTypes.FloatType, false)));
        return f.toArray(StructField[]::new);
    }

    private static StructField field(String name, DataType type) {
        return DataTypes.createStructField(name, type, true);
    }

    /** The columns of {@code table} (key columns first). */
    public static List<String> columns(String table) {
        List<String> c = new ArrayList<>(KEY);
        c.addAll(switch (table) {
            case FEATURES -> FEATURE_COLUMNS;
            case ANOMALIES -> ANOMALY_COLUMNS;
            case ERRORS -> ERROR_COLUMNS;
            case TOKENS -> TOKEN_COLUMNS;
            default -> throw new IllegalArgumentException(table);
        });
        return c;
    }

    /** A row being filled by column name. */
    static final class RowBuilder {
        private final Object[] values = new Object[ROW.size()];

        RowBuilder(String kind, ImageInput in, long seed) {
            set("kind", kind).set("path", in.path()).set("label", in.label()).set("prompt", in.prompt()).set("seed", seed);
        }

        RowBuilder set(String column, Object value) {
            values[ROW.fieldIndex(column)] = value;
            return this;
        }

        org.apache.spark.sql.Row build() {
            return org.apache.spark.sql.RowFactory.create(values.clone());
        }
    }
}

package dev.unetlens.spark;

import dev.unetlens.UnetlensException;
import dev.unetlens.analysis.images.ImageFiles;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * {@code --input}: a folder of images (read recursively), a text file of paths (one a line; relative to the file's
 * folder), or a Parquet or CSV table (a file or a Parquet folder) with a {@code path} column and optional {@code prompt}
 * and {@code label} columns. Paths are listed once each, sorted.
 */
public final class Inputs {
    private Inputs() {
    }

    /** The inputs, sorted by path, each path once. */
    public static List<ImageInput> read(SparkSession spark, Path input) {
        if (!Files.exists(input)) {
            throw new UnetlensException("--input " + input + ": no such file or folder; give a folder of images, a text file"
                    + " of paths, or a Parquet/CSV table with a path column");
        }
        String name = input.getFileName().toString().toLowerCase(Locale.ROOT);
        List<ImageInput> list;
        if (name.endsWith(".csv")) {
            list = table(spark.read().option("header", "true").csv(input.toString()), input);
        } else if (name.endsWith(".parquet") || isParquetFolder(input)) {
            list = table(spark.read().parquet(input.toString()), input);
        } else if (Files.isDirectory(input)) {
            list = ImageFiles.expand(List.of(input)).stream()
                    .map(p -> new ImageInput(p.toAbsolutePath().toString(), null, null)).toList();
        } else {
            list = lines(input);
        }
        TreeMap<String, ImageInput> byPath = new TreeMap<>();
        list.forEach(i -> byPath.putIfAbsent(i.path(), i));
        if (byPath.isEmpty()) {
            throw new UnetlensException("--input " + input + " lists no images");
        }
        return List.copyOf(byPath.values());
    }

    private static boolean isParquetFolder(Path dir) {
        if (!Files.isDirectory(dir)) {
            return false;
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.anyMatch(p -> p.getFileName().toString().endsWith(".parquet"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<ImageInput> table(Dataset<Row> t, Path input) {
        List<String> columns = Arrays.asList(t.columns());
        if (!columns.contains("path")) {
            throw new UnetlensException("--input " + input + " has no 'path' column (its columns: " + String.join(", ", columns)
                    + "); name the column of image paths 'path'");
        }
        Column prompt = columns.contains("prompt") ? functions.col("prompt").cast("string") : functions.lit(null).cast("string");
        Column label = columns.contains("label") ? functions.col("label").cast("string") : functions.lit(null).cast("string");
        Path base = (Files.isDirectory(input) ? input : input.toAbsolutePath().getParent());
        return t.select(functions.col("path").cast("string"), prompt, label).collectAsList().stream()
                .filter(r -> !r.isNullAt(0) && !r.getString(0).isBlank())
                .map(r -> new ImageInput(resolve(base, r.getString(0)), r.isNullAt(1) ? null : r.getString(1),
                        r.isNullAt(2) ? null : r.getString(2)))
                .toList();
    }

    private static List<ImageInput> lines(Path file) {
        try {
            Path base = file.toAbsolutePath().getParent();
            return Files.readAllLines(file).stream().map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#"))
                    .map(l -> new ImageInput(resolve(base, l), null, null)).toList();
        } catch (IOException e) {
            throw new UnetlensException("--input " + file + ": cannot read it as a text file of paths (" + e.getMessage() + ")");
        }
    }

    private static String resolve(Path base, String path) {
        Path p = Path.of(path);
        return (p.isAbsolute() ? p : base.resolve(p)).normalize().toString();
    }
}

package dev.unetlens.spark;

import org.apache.spark.sql.Row;

import java.io.Serializable;

/**
 * One input image: its path (as listed: the seed and the tables' key), and the input table's optional prompt (the text
 * the U-Net reads for it) and label (carried into every row).
 */
public record ImageInput(String path, String prompt, String label) implements Serializable {
    /** From a row of the inputs table (path, prompt, label). */
    static ImageInput of(Row r) {
        return new ImageInput(r.getString(0), r.isNullAt(1) ? null : r.getString(1), r.isNullAt(2) ? null : r.getString(2));
    }
}

package dev.unetlens.analysis.paper;

/**
 * The paper's window arithmetic ({@code run_anomaly_analysis}): an anomaly labelled at the reference module as the
 * upper-left token (x = column, y = row) of a 2×2 patch is looked for in a module whose map has H rows through the
 * scale s = H / H_ref: the window starts at (⌊y·s⌋, ⌊x·s⌋) and is max(1, ⌊2s⌋) tokens on each side, cut at the map's
 * edge as numpy slicing cuts it. Its value is the mean norm in the window over the mean norm of the whole map.
 *
 * @param row  first row
 * @param col  first column
 * @param size side (before cutting at the edge)
 */
public record AnomalyWindow(int row, int col, int size) {
    /** The window of label (x, y) at the reference map of {@code refHeight} rows, in a map of {@code height} rows. */
    public static AnomalyWindow of(int x, int y, int height, int refHeight) {
        double s = (double) height / refHeight;                 // python: h / h_up1
        int offset = (int) (2 * s);
        return new AnomalyWindow((int) (y * s), (int) (x * s), Math.max(1, offset));
    }

    /** Mean norm in the window (cut at the edge) / mean norm of the whole map. */
    public double ratio(NormMap m) {
        double s = 0;
        int n = 0;
        for (int r = row; r < Math.min(row + size, m.height()); r++) {
            for (int c = col; c < Math.min(col + size, m.width()); c++) {
                s += m.at(r, c);
                n++;
            }
        }
        return n == 0 ? Double.NaN : s / n / m.mean();
    }
}

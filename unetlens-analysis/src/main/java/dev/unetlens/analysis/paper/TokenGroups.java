package dev.unetlens.analysis.paper;

/**
 * The paper's token groups and their similarity ({@code run_token_group_similarities}): on an H×W map the tokens are
 * corner (the 4 corners), border (the rest of the outer ring) or other (the inside). For one image, the 3×3 matrix of
 * mean cosine similarities between the tokens of two groups, over all pairs, leaving out each token's similarity with
 * itself on the diagonal. With the ring dropped (the paper's second de-confounded variant, {@code F.pad(…, -1)} on the
 * similarity map), the groups are those of the (H−2)×(W−2) map inside the ring.
 *
 * <p>Computed as sums of unit vectors: Σ_{p∈A, q∈B} û_p·û_q = (Σ_{p∈A} û_p)·(Σ_{q∈B} û_q), minus Σ_{p∈A} û_p·û_p on the
 * diagonal, so one image costs O(C·H·W), not O(C·(H·W)²). A token of norm 0 has cosine 0 with every token (sdhelper
 * would give NaN).
 */
public final class TokenGroups {
    public static final int CORNER = 0;
    public static final int BORDER = 1;
    public static final int OTHER = 2;
    public static final String[] NAMES = {"corner", "border", "other"};

    private TokenGroups() {
    }

    /** The group of token (row, col) on an h×w map. */
    public static int group(int row, int col, int h, int w) {
        boolean edgeRow = row == 0 || row == h - 1;
        boolean edgeCol = col == 0 || col == w - 1;
        return edgeRow && edgeCol ? CORNER : edgeRow || edgeCol ? BORDER : OTHER;
    }

    /**
     * Sums and pair counts of one image's 3×3 group similarities (so images can be pooled): {@code sums[i][j]} over
     * {@code counts[i][j]} pairs.
     */
    public record Sums(double[][] sums, long[][] counts) {
        public double[][] means() {
            double[][] m = new double[3][3];
            for (int i = 0; i < 3; i++) {
                for (int j = 0; j < 3; j++) {
                    m[i][j] = counts[i][j] == 0 ? Double.NaN : sums[i][j] / counts[i][j];
                }
            }
            return m;
        }
    }

    /**
     * One image's group similarities, the map stored [C, H, W] from {@code offset} of {@code x}; {@code ring} tokens
     * dropped on every side first (0: the plain variant; 1: the paper's "similarity map cropped").
     */
    public static Sums of(float[] x, int offset, int channels, int height, int width, int ring) {
        int h = height - 2 * ring;
        int w = width - 2 * ring;
        double[][] groupSum = new double[3][channels];
        double[] selfSum = new double[3];
        long[] size = new long[3];
        int p = height * width;
        double[] u = new double[channels];
        for (int r = 0; r < Math.max(h, 0); r++) {
            for (int c = 0; c < Math.max(w, 0); c++) {
                int at = (r + ring) * width + c + ring;
                double n2 = 0;
                for (int k = 0; k < channels; k++) {
                    u[k] = x[offset + k * p + at];
                    n2 += u[k] * u[k];
                }
                double inv = n2 > 0 ? 1 / Math.sqrt(n2) : 0;
                int g = group(r, c, h, w);
                double self = 0;
                for (int k = 0; k < channels; k++) {
                    double v = u[k] * inv;
                    groupSum[g][k] += v;
                    self += v * v;
                }
                selfSum[g] += self;
                size[g]++;
            }
        }
        double[][] sums = new double[3][3];
        long[][] counts = new long[3][3];
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < 3; j++) {
                double dot = 0;
                for (int k = 0; k < channels; k++) {
                    dot += groupSum[i][k] * groupSum[j][k];
                }
                sums[i][j] = i == j ? dot - selfSum[i] : dot;
                counts[i][j] = size[i] * size[j] - (i == j ? size[i] : 0);
            }
        }
        return new Sums(sums, counts);
    }
}

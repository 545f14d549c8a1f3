package dev.unetlens.viz.repr;

import dev.unetlens.viz.FeatureMap;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.EigenDecomposition_F64;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Principal components of feature vectors: every position of every map is a sample x_p ∈ ℝ^C.
 *
 * <p>Notation: N samples, C channels, μ the mean, X the centred N×C matrix (rows x_p − μ).
 * <ol>
 *   <li>Σ = XᵀX/(N − 1), the C×C covariance, accumulated over blocks of rows (N > C); or, when N ≤ C, the
 *       N×N Gram matrix G = XXᵀ/(N − 1), whose eigenvectors u give the components v = Xᵀu/‖Xᵀu‖ with the same
 *       eigenvalues — the cheaper side of the same decomposition.</li>
 *   <li>The symmetric eigendecomposition (EJML) gives eigenvalues λ₁ ≥ λ₂ ≥ … (the components' variances) and
 *       unit components v₁, v₂, …</li>
 *   <li>Each component's sign is fixed so that its entry of largest magnitude (the first such) is positive, so
 *       a fit is reproducible.</li>
 *   <li>A sample's scores are s_i = v_i·(x − μ).</li>
 * </ol>
 *
 * @param mean          μ [C]
 * @param components    v₁ … v_k, each [C], unit length, orthogonal
 * @param variance      λ₁ … λ_k
 * @param totalVariance the trace of Σ (the sum of all C variances), for explained-variance ratios
 * @param samples       N
 */
public record Pca(double[] mean, double[][] components, double[] variance, double totalVariance, int samples) {
    private static final int BLOCK = 1024;

    public Pca {
        mean = mean.clone();
        components = Arrays.stream(components).map(double[]::clone).toArray(double[][]::new);
        variance = variance.clone();
    }

    /** Fits k components over all positions of all maps (same C). */
    public static Pca fit(List<FeatureMap> maps, int k) {
        if (maps.isEmpty()) {
            throw new IllegalArgumentException("PCA needs at least one feature map");
        }
        int c = maps.getFirst().channels();
        long total = 0;
        for (FeatureMap m : maps) {
            if (m.channels() != c) {
                throw new IllegalArgumentException("PCA over maps of " + c + " and " + m.channels()
                        + " channels; fit one module at a time");
            }
            total += (long) m.height() * m.width();
        }
        if (total < 2) {
            throw new IllegalArgumentException("PCA needs at least 2 positions, got " + total);
        }
        int n = Math.toIntExact(total);
        if (k < 1 || k > Math.min(c, n)) {
            throw new IllegalArgumentException("components must be in [1, " + Math.min(c, n) + "], got " + k);
        }
        double[] mean = new double[c];
        for (FeatureMap m : maps) {
            float[] v = m.values();
            int hw = m.height() * m.width();
            for (int ch = 0; ch < c; ch++) {
                double s = 0;
                for (int p = 0; p < hw; p++) {
                    s += v[ch * hw + p];
                }
                mean[ch] += s;
            }
        }
        for (int ch = 0; ch < c; ch++) {
            mean[ch] /= n;
        }
        return n > c ? fitCovariance(maps, mean, c, n, k) : fitGram(maps, mean, c, n, k);
    }

    /** The centred samples as rows, in map order, position order. */
    private static DMatrixRMaj centred(List<FeatureMap> maps, double[] mean, int c, int n) {
        DMatrixRMaj x = new DMatrixRMaj(n, c);
        int row = 0;
        for (FeatureMap m : maps) {
            float[] v = m.values();
            int hw = m.height() * m.width();
            for (int p = 0; p < hw; p++, row++) {
                for (int ch = 0; ch < c; ch++) {
                    x.unsafe_set(row, ch, v[ch * hw + p] - mean[ch]);
                }
            }
        }
        return x;
    }

    private static Pca fitCovariance(List<FeatureMap> maps, double[] mean, int c, int n, int k) {
        DMatrixRMaj cov = new DMatrixRMaj(c, c);
        DMatrixRMaj part = new DMatrixRMaj(c, c);
        // Σ = Σ_blocks X_bᵀ X_b, a block of rows at a time so X is never whole in memory
        List<float[]> values = new ArrayList<>();
        List<int[]> sizes = new ArrayList<>();
        for (FeatureMap m : maps) {
            values.add(m.values());
            sizes.add(new int[] {m.height() * m.width()});
        }
        DMatrixRMaj block = new DMatrixRMaj(1, c);
        int mi = 0;
        int p = 0;
        while (mi < values.size()) {
            int rows = 0;
            block.reshape(BLOCK, c);
            while (rows < BLOCK && mi < values.size()) {
                float[] v = values.get(mi);
                int hw = sizes.get(mi)[0];
                for (int ch = 0; ch < c; ch++) {
                    block.unsafe_set(rows, ch, v[ch * hw + p] - mean[ch]);
                }
                rows++;
                if (++p == hw) {
                    p = 0;
                    mi++;
                }
            }
            block.reshape(rows, c, true);
            CommonOps_DDRM.multTransA(block, block, part);
            CommonOps_DDRM.addEquals(cov, part);
        }
        CommonOps_DDRM.scale(1.0 / (n - 1), cov);
        double trace = CommonOps_DDRM.trace(cov);
        Eigen e = eigen(cov, k);
        return new Pca(mean, e.vectors, e.values, trace, n);
    }

    private static Pca fitGram(List<FeatureMap> maps, double[] mean, int c, int n, int k) {
        DMatrixRMaj x = centred(maps, mean, c, n);
        DMatrixRMaj gram = new DMatrixRMaj(n, n);
        CommonOps_DDRM.multTransB(x, x, gram);
        CommonOps_DDRM.scale(1.0 / (n - 1), gram);
        double trace = CommonOps_DDRM.trace(gram);   // tr(XXᵀ) = tr(XᵀX)
        Eigen e = eigen(gram, k);
        double[][] comps = new double[k][c];
        for (int i = 0; i < k; i++) {
            double norm = 0;
            for (int ch = 0; ch < c; ch++) {
                double s = 0;
                for (int r = 0; r < n; r++) {
                    s += x.unsafe_get(r, ch) * e.vectors[i][r];
                }
                comps[i][ch] = s;
                norm += s * s;
            }
            norm = Math.sqrt(norm);
            for (int ch = 0; ch < c; ch++) {
                comps[i][ch] = norm > 0 ? comps[i][ch] / norm : 0;
            }
            fixSign(comps[i]);
        }
        return new Pca(mean, comps, e.values, trace, n);
    }

    private record Eigen(double[] values, double[][] vectors) {
    }

    /** The k largest eigenpairs of a symmetric matrix, sign-fixed. */
    private static Eigen eigen(DMatrixRMaj symmetric, int k) {
        int size = symmetric.numRows;
        EigenDecomposition_F64<DMatrixRMaj> eig = DecompositionFactory_DDRM.eig(size, true, true);
        if (!eig.decompose(symmetric.copy())) {
            throw new IllegalStateException("PCA: the eigendecomposition did not converge");
        }
        Integer[] order = new Integer[size];
        for (int i = 0; i < size; i++) {
            order[i] = i;
        }
        Arrays.sort(order, Comparator.comparingDouble(i -> -eig.getEigenvalue(i).real));
        double[] values = new double[k];
        double[][] vectors = new double[k][];
        for (int i = 0; i < k; i++) {
            values[i] = Math.max(0, eig.getEigenvalue(order[i]).real);
            DMatrixRMaj v = eig.getEigenVector(order[i]);
            vectors[i] = Arrays.copyOf(v.data, size);
            double norm = 0;
            for (double d : vectors[i]) {
                norm += d * d;
            }
            norm = Math.sqrt(norm);
            for (int j = 0; j < size; j++) {
                vectors[i][j] /= norm;
            }
            fixSign(vectors[i]);
        }
        return new Eigen(values, vectors);
    }

    /** Makes the first entry of largest magnitude positive. */
    static void fixSign(double[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (Math.abs(v[i]) > Math.abs(v[best]) + 1e-12) {
                best = i;
            }
        }
        if (v[best] < 0) {
            for (int i = 0; i < v.length; i++) {
                v[i] = -v[i];
            }
        }
    }

    /** k, the number of components. */
    public int count() {
        return variance.length;
    }

    @Override
    public double[] mean() {
        return mean.clone();
    }

    @Override
    public double[][] components() {
        return Arrays.stream(components).map(double[]::clone).toArray(double[][]::new);
    }

    @Override
    public double[] variance() {
        return variance.clone();
    }

    /** λ_i / tr Σ for each component. */
    public double[] explainedRatio() {
        double[] r = new double[variance.length];
        for (int i = 0; i < r.length; i++) {
            r[i] = totalVariance > 0 ? variance[i] / totalVariance : 0;
        }
        return r;
    }

    /** The scores of every position of a map: [k][H·W]. */
    public float[][] project(FeatureMap map) {
        if (map.channels() != mean.length) {
            throw new IllegalArgumentException("PCA fitted on " + mean.length + " channels, map has "
                    + map.channels());
        }
        float[] v = map.values();
        int hw = map.height() * map.width();
        float[][] out = new float[components.length][hw];
        for (int i = 0; i < components.length; i++) {
            double[] comp = components[i];
            double[] acc = new double[hw];
            for (int ch = 0; ch < mean.length; ch++) {
                double w = comp[ch];
                double mu = mean[ch];
                int base = ch * hw;
                for (int p = 0; p < hw; p++) {
                    acc[p] += w * (v[base + p] - mu);
                }
            }
            for (int p = 0; p < hw; p++) {
                out[i][p] = (float) acc[p];
            }
        }
        return out;
    }
}

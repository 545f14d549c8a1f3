import ai.djl.ndarray.*; import ai.djl.ndarray.types.*; import ai.djl.engine.Engine;
public class Gemm { public static void main(String[] x) {
  try (NDManager m = NDManager.newBaseManager()) {
    long[][] s = {{256,1280,11520},{256,640,11520},{64,1280,11520},{1024,5120,640},{4096,2560,320},{1024,1280,1280}};
    for (long[] d : s) { NDArray a = m.randomNormal(new Shape(d[0], d[2])), b = m.randomNormal(new Shape(d[2], d[1]));
      for (int i = 0; i < 3; i++) a.matMul(b).close();
      double[] t = new double[7]; for (int i = 0; i < 7; i++) { long t0 = System.nanoTime(); a.matMul(b).close(); t[i] = (System.nanoTime() - t0) / 1e9; }
      java.util.Arrays.sort(t); System.out.printf("%d %d %d %.2f ms %.1f GFLOP/s%n", d[0], d[1], d[2], t[3] * 1e3, 2.0 * d[0] * d[1] * d[2] / t[3] / 1e9); } } } }

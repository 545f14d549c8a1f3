import ai.djl.ndarray.*; import ai.djl.ndarray.types.*; import ai.djl.ndarray.index.*;
public class ConvCl2 {
  static NDArray conv(NDArray x, NDArray w, NDArray b, long ph) { return x.getNDArrayInternal().convolution(x, w, b, new Shape(1,1), new Shape(ph,1), new Shape(1,1), 1).singletonOrThrow(); }
  static NDArray cl(NDArray x) { Shape s = x.getShape(); return x.transpose(0,2,3,1).flatten().reshape(s.get(0), s.get(2), s.get(3), s.get(1)).transpose(0,3,1,2); }
  static NDArray nchw(NDArray x) { return x.flatten().reshape(x.getShape()); }
  static NDArray banded(NDArray x, NDArray w, NDArray b, boolean useCl) {
    Shape s = x.getShape(); long H = s.get(2); long band = Math.max(8, (16L<<20) / (s.get(1)*s.get(3)*4));
    NDArray y = x.getManager().create(new Shape(s.get(0), w.getShape().get(0), H, s.get(3)));
    for (long a = 0; a < H; a += band) { long e = Math.min(H, a + band);
      try (NDManager sub = x.getManager().newSubManager()) {
        long st = Math.max(0, a - 1), en = Math.min(H, e + 1);
        NDArray h = x.get(new NDIndex(":, :, {}:{}", st, en)); h.attach(sub);
        long top = st - (a - 1), bot = e + 1 - en;
        if (top > 0 || bot > 0) { h = h.pad(new Shape(0,0,top,bot), 0); }
        if (useCl) h = cl(h);
        NDArray p = conv(h, w, b, 0); y.set(new NDIndex(":, :, {}:{}", a, e), p); } }
    return y; }
  public static void main(String[] a) {
    try (NDManager m = NDManager.newBaseManager()) {
      long[][] s = {{128,128,512},{256,256,512},{512,256,512},{512,512,512},{512,512,256},{128,128,1024},{256,128,1024},{256,256,1024}};
      for (long[] d : s) {
        NDArray x = m.randomNormal(new Shape(1, d[0], d[2], d[2])); NDArray w = m.randomNormal(0, 0.05f, new Shape(d[1], d[0], 3, 3), DataType.FLOAT32); NDArray b = m.randomNormal(new Shape(d[1]));
        NDArray wc = cl(w);
        double gf = 2.0 * d[0] * d[1] * 9 * d[2] * d[2] / 1e9;
        NDArray ref = banded(x, w, b, false);
        for (int mode = 0; mode < 4; mode++) {
          final int md = mode;
          java.util.function.Supplier<NDArray> f = () -> switch (md) { case 0 -> banded(x, w, b, false); case 1 -> banded(x, wc, b, true);
             case 2 -> { try (NDArray c = cl(x); NDArray y = conv(c, wc, b, 1)) { yield nchw(y); } } default -> conv(x, w, b, 1); };
          NDArray y0 = f.get(); double diff = y0.sub(ref).abs().max().getFloat(); y0.close();
          double[] t = new double[3];
          for (int i = 0; i < 3; i++) { long t0 = System.nanoTime(); f.get().close(); t[i] = (System.nanoTime() - t0) / 1e9; }
          java.util.Arrays.sort(t);
          System.out.printf("%s %s maxdiff %.2e %.1f ms %.1f GFLOP/s%n", java.util.Arrays.toString(d), new String[]{"band-nchw","band-cl","whole-cl+copies","whole-nchw"}[mode], diff, t[1]*1e3, gf / t[1]);
        }
        x.close(); ref.close();
      }
    }
  }
}

import ai.djl.ndarray.*; import ai.djl.ndarray.types.*; import ai.djl.nn.Activation;
public class Bf16Lin {
  static NDArray lin(NDArray x, NDArray w, NDArray b) { return x.getNDArrayInternal().linear(x, w, b).singletonOrThrow(); }
  public static void main(String[] a) {
    try (NDManager m = NDManager.newBaseManager()) {
      long[][] shapes = {{320, 2560}, {640, 5120}, {1280, 10240}};
      long[] tokens = {4096, 1024, 256};
      for (int round = 0; round < 2; round++)
      for (int si = 0; si < 3; si++) {
        long in = shapes[si][0], out = shapes[si][1], t = tokens[si];
        NDArray w = m.randomNormal(0, 0.05f, new Shape(out, in), DataType.FLOAT32); NDArray bias = m.randomNormal(new Shape(out));
        NDArray wb = dev.unetlens.model.Bf16.of(w), bb = dev.unetlens.model.Bf16.of(bias);
        for (int B : new int[]{1, 2}) {
          NDArray x = m.randomNormal(new Shape(B, t, in));
          double[][] tm = new double[3][5];
          for (int i = 0; i < 5; i++) {
            try (NDManager s = m.newSubManager()) {
               long t0 = System.nanoTime(); NDArray y = lin(x, w, bias);  y.attach(s); tm[0][i] = (System.nanoTime() - t0) / 1e6;
              t0 = System.nanoTime(); NDArray xb = dev.unetlens.model.Bf16.of(x); xb.attach(s); NDArray yb = lin(xb, wb, bb); yb.attach(s); NDArray y2 = dev.unetlens.model.Bf16.widen(yb); y2.attach(s);  tm[1][i] = (System.nanoTime() - t0) / 1e6;
              t0 = System.nanoTime(); NDList h = y2.split(2, 2); h.attach(s); NDArray g = Activation.gelu(h.get(1)).muli(h.get(0)); g.attach(s); tm[2][i] = (System.nanoTime() - t0) / 1e6;
            }
          }
          for (double[] r : tm) java.util.Arrays.sort(r);
          System.out.printf("round %d %dx%d->%d B=%d: fp32 linear %.1f ms, bf16 linear (cast+widen) %.1f ms, geglu %.1f ms%n", round, t, in, out, B, tm[0][2], tm[1][2], tm[2][2]);
          x.close();
        }
      }
    }
  }
}

import ai.djl.ndarray.*; import ai.djl.ndarray.types.*; import ai.djl.nn.Activation;
public class Geglu {
  public static void main(String[] a) {
    try (NDManager m = NDManager.newBaseManager()) {
      for (int round = 0; round < 2; round++)
      for (int b : new int[]{1, 2}) {
        NDArray p = m.randomNormal(new Shape(b, 4096, 2560));
        double[] t = new double[7]; double[] t2 = new double[7];
        for (int i = 0; i < 7; i++) {
          long t0 = System.nanoTime();
          try (NDManager s = m.newSubManager()) { NDArray pp = p.duplicate(); pp.attach(s); t0 = System.nanoTime();
            NDList h = pp.split(2, 2); h.attach(s); NDArray y = Activation.gelu(h.get(1)).muli(h.get(0)); y.attach(s); }
          t[i] = (System.nanoTime() - t0) / 1e6;
          try (NDManager s = m.newSubManager()) { NDArray pp = p.duplicate(); pp.attach(s); long t1 = System.nanoTime();
            NDArray g = pp.get(":, :, 1280:").duplicate(); g.attach(s); NDArray y = Activation.gelu(g); y.attach(s); y.muli(pp.get(":, :, :1280")); t2[i] = (System.nanoTime() - t1) / 1e6; }
        }
        java.util.Arrays.sort(t); java.util.Arrays.sort(t2);
        System.out.printf("B=%d split-gelu-mul median %.1f ms; min %.1f%n", b, t[3], t[0]);
        p.close();
      }
    }
  }
}

import ai.djl.ndarray.*; import ai.djl.ndarray.types.*; import ai.djl.pytorch.jni.*; import ai.djl.pytorch.engine.*;
public class ConvCl {
  static NDArray conv(NDArray x, NDArray w, NDArray b) { return x.getNDArrayInternal().convolution(x, w, b, new Shape(1,1), new Shape(1,1), new Shape(1,1), 1).singletonOrThrow(); }
  static NDArray cl(NDArray x) { Shape s = x.getShape(); return x.transpose(0,2,3,1).flatten().reshape(s.get(0), s.get(2), s.get(3), s.get(1)).transpose(0,3,1,2); }
  static boolean contig(NDArray x) { try { Class<?> c = Class.forName("ai.djl.pytorch.jni.PyTorchLibrary"); java.lang.reflect.Field f = c.getDeclaredField("LIB"); f.setAccessible(true); Object lib = f.get(null); java.lang.reflect.Method mm = c.getDeclaredMethod("torchIsContiguous", long.class); mm.setAccessible(true); return (Boolean) mm.invoke(lib, ((PtNDArray) x).getHandle()); } catch (Exception e) { throw new RuntimeException(e); } }
  public static void main(String[] a) {
    try (NDManager m = NDManager.newBaseManager()) {
      long[][] s = {{128,128,256},{128,128,512},{256,256,256},{256,256,512},{512,512,128},{512,512,64},{320,320,64},{640,640,32},{1280,1280,16}};
      for (long[] d : s) {
        NDArray x = m.randomNormal(new Shape(1, d[0], d[2], d[2])); NDArray w = m.randomNormal(0, 0.05f, new Shape(d[1], d[0], 3, 3), DataType.FLOAT32); NDArray b = m.randomNormal(new Shape(d[1]));
        NDArray xc = cl(x); NDArray wc = cl(w); System.out.println("xc contig " + contig(xc) + " wc " + contig(wc));
        double gf = 2.0 * d[0] * d[1] * 9 * d[2] * d[2] / 1e9;
        for (int mode = 0; mode < 4; mode++) {
          NDArray xi = mode == 0 ? x : xc, wi = mode == 2 ? wc : w;
          if (mode == 3) { xi = x; wi = wc; }
          NDArray y0 = conv(xi, wi, b); boolean c = contig(y0);
          double diff = y0.sub(conv(x, w, b)).abs().max().getFloat();
          y0.close();
          double[] t = new double[5];
          for (int i = 0; i < 5; i++) { long t0 = System.nanoTime(); conv(xi, wi, b).close(); t[i] = (System.nanoTime() - t0) / 1e9; }
          java.util.Arrays.sort(t);
          System.out.printf("%s mode %d (x%s w%s) out-contig %b maxdiff %.2e %.1f ms %.1f GFLOP/s%n", java.util.Arrays.toString(d), mode, mode==1||mode==2?"CL":"", mode>=2?"CL":"", c, diff, t[2]*1e3, gf / t[2]);
        }
      }
    }
  }
}

import ai.djl.ndarray.*;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.*;
import ai.djl.pytorch.engine.*;
import ai.djl.pytorch.jni.*;
import java.util.*;
import java.util.function.*;

/** fp32 vs bf16 of libtorch 2.7.1 kernels through DJL 0.35.1 (bf16 casts, softmax and group norm via TorchScript). */
public class KernelBench {
    static PtNDManager m;
    static PtSymbolBlock ops;
    static boolean BF;
    static NDArray call(String method, NDArray... xs) {
        IValue[] in = new IValue[xs.length];
        for (int i = 0; i < xs.length; i++) in[i] = IValue.from((PtNDArray) xs[i]);
        IValue out = IValueUtils.runMethod(ops, method, in);
        NDArray r = out.toTensor(m);
        out.close(); for (IValue v : in) v.close();
        return r;
    }
    static NDArray bf(NDArray x) { return call("forward", x); }
    static NDArray f32(NDArray x) { return x.toType(DataType.FLOAT32, false); }
    static double time(Supplier<NDArray> f, int reps) {
        for (int i = 0; i < 2; i++) f.get().close();
        double[] t = new double[reps];
        for (int i = 0; i < reps; i++) {
            long a = System.nanoTime();
            NDArray y = f.get();
            t[i] = (System.nanoTime() - a) / 1e6;
            y.close();
        }
        Arrays.sort(t);
        return t[reps / 2];
    }
    static void row(String name, Function<Boolean, Supplier<NDArray>> make, int reps) {
        double f = time(make.apply(false), reps);
        double b = time(make.apply(true), reps);
        System.out.printf(Locale.ROOT, "| %-46s | %9.2f | %9.2f | %5.2fx |%n", name, f, b, f / b);
    }
    static NDArray rnd(boolean bf16, long... s) {
        NDArray x = m.randomNormal(new Shape(s)).muli(0.1f);
        return bf16 ? bf(x) : x;
    }
    static NDArray conv(NDArray x, NDArray w, NDArray b) {
        return x.getNDArrayInternal().convolution(x, w, b, new Shape(1, 1), new Shape(1, 1), new Shape(1, 1), 1).singletonOrThrow();
    }
    static void conv(int c, int hw, int reps) {
        row("conv3x3 " + c + "->" + c + " " + hw + "x" + hw + " b1", bf -> {
            NDArray x = rnd(bf, 1, c, hw, hw), w = rnd(bf, c, c, 3, 3), b = rnd(bf, c);
            return () -> conv(x, w, b);
        }, reps);
        row("  same, fp32 in/out (cast x, cast y back)", bf -> {
            NDArray x = rnd(false, 1, c, hw, hw), w = rnd(bf, c, c, 3, 3), b = rnd(bf, c);
            return bf ? () -> { NDArray xb = bf(x); NDArray y = conv(xb, w, b); xb.close(); NDArray r = f32(y); y.close(); return r; }
                      : () -> conv(x, w, b);
        }, reps);
    }
    public static void main(String[] a) throws Exception {
        m = (PtNDManager) NDManager.newBaseManager();
        ops = JniUtils.loadModule(m, java.nio.file.Path.of("bench-ops.pt"), false, new String[0], new String[0], false);
        System.out.println("threads " + System.getProperty("ai.djl.pytorch.num_threads"));
        System.out.println("| op | fp32 ms | bf16 ms | fp32/bf16 |\n|---|---|---|---|");
        conv(320, 64, 7); conv(640, 32, 7); conv(1280, 16, 9); conv(1280, 8, 9);
        row("linear [4096,320]·[320→1280]ᵀ", bf -> {
            NDArray x = rnd(bf, 4096, 320), w = rnd(bf, 1280, 320), b = rnd(bf, 1280);
            return () -> ai.djl.nn.core.Linear.linear(x, w, b).singletonOrThrow(); }, 9);
        row("linear [4096,1280]·[1280→320]ᵀ", bf -> {
            NDArray x = rnd(bf, 4096, 1280), w = rnd(bf, 320, 1280), b = rnd(bf, 320);
            return () -> ai.djl.nn.core.Linear.linear(x, w, b).singletonOrThrow(); }, 9);
        row("linear [1024,640]·[640→5120]ᵀ (GEGLU 32²)", bf -> {
            NDArray x = rnd(bf, 1024, 640), w = rnd(bf, 5120, 640), b = rnd(bf, 5120);
            return () -> ai.djl.nn.core.Linear.linear(x, w, b).singletonOrThrow(); }, 9);
        row("bmm Q·Kᵀ chunk [8,128,40]·[8,40,4096]", bf -> {
            NDArray q = rnd(bf, 8, 128, 40), k = rnd(bf, 8, 40, 4096);
            return () -> q.batchMatMul(k); }, 21);
        row("bmm P·V chunk [8,128,4096]·[8,4096,40]", bf -> {
            NDArray p = rnd(bf, 8, 128, 4096), v = rnd(bf, 8, 4096, 40);
            return () -> p.batchMatMul(v); }, 21);
        row("bmm cross Q·Kᵀ [8,4096,40]·[8,40,77]", bf -> {
            NDArray q = rnd(bf, 8, 4096, 40), k = rnd(bf, 8, 40, 77);
            return () -> q.batchMatMul(k); }, 21);
        row("softmax [8,128,4096] (TorchScript both)", bf -> {
            NDArray s = rnd(bf, 8, 128, 4096);
            return () -> call("softmax", s); }, 21);
        row("group_norm 32 groups [1,320,64,64] (TS both)", bf -> {
            NDArray x = rnd(bf, 1, 320, 64, 64), w = rnd(bf, 320), b = rnd(bf, 320);
            return () -> call("group_norm", x, w, b); }, 21);
        row("self-attn 64² 8 heads, 32 chunks (bf16 bmm, fp32 softmax)", bf -> {
            NDArray q = rnd(bf, 8, 4096, 40), kT = rnd(bf, 8, 40, 4096), v = rnd(bf, 8, 4096, 40);
            return () -> { NDList out = new NDList();
                for (int i = 0; i < 4096; i += 128) {
                    NDArray s = q.get(new NDIndex(":, {}:{}", i, i + 128)).batchMatMul(kT);
                    NDArray sf = bf ? f32(s) : s;
                    NDArray p = sf.muli(0.158f).softmax(-1);
                    NDArray pb = bf ? bf(p) : p;
                    out.add(pb.batchMatMul(v)); s.close(); sf.close(); p.close(); pb.close(); }
                NDArray r = NDArrays.concat(out, 1); out.close(); return r; }; }, 5);
        row("cast fp32→bf16 [1,320,64,64] (vs fp32 copy)", bf -> {
            NDArray x = rnd(false, 1, 320, 64, 64);
            return () -> bf ? bf(x) : x.duplicate(); }, 21);
        row("cast bf16→fp32 [1,320,64,64] (vs fp32 copy)", bf -> {
            NDArray x = rnd(bf, 1, 320, 64, 64);
            return () -> bf ? f32(x) : x.duplicate(); }, 21);
    }
}

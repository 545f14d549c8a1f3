package dev.unetlens.model.check;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.model.AttentionKernel;
import dev.unetlens.model.CpuInfo;
import dev.unetlens.model.SdpaKernel;

import java.io.IOException;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a run's numbers were computed on, for its manifest: the CPU, oneDNN's ISA and version as oneDNN reports them,
 * ATen's CPU capability, the threads, and the kernel checks — for every operation shape, the way that was used and
 * why (ways found wrong first), so that two runs that differ can be explained.
 */
public final class ComputeRecord {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    private ComputeRecord() {
    }

    /** The record as of now. */
    public static ObjectNode json() {
        ObjectNode c = F.objectNode();
        c.put("cpu", cpuName());
        c.put("onednn_isa", OneDnn.isa());
        c.put("onednn", OneDnn.version());
        c.put("aten_cpu_capability", OneDnn.atenCapability());
        c.put("mkl", dev.unetlens.model.TorchRuntime.mkl());
        c.put("threads", ai.djl.pytorch.jni.JniUtils.getNumThreads());
        c.set("attention", attention());
        ObjectNode k = c.putObject("kernel_checks");
        k.put("mode", KernelChecks.mode());
        k.put("calls", KernelChecks.calls());
        k.put("thorough_checks", KernelChecks.thoroughChecks());
        k.put("spot_checks", KernelChecks.spotChecks());
        k.put("unchecked_calls", KernelChecks.unchecked());
        k.put("seconds", KernelChecks.checkSeconds());
        Map<String, Map<String, Integer>> counts = new TreeMap<>();
        var shapes = k.putArray("shapes");
        var rerouted = k.putArray("rerouted");
        for (KernelChecks.Verdict v : KernelChecks.verdicts()) {
            counts.computeIfAbsent(v.op(), o -> new TreeMap<>()).merge(v.path(), 1, Integer::sum);
            shapes.add(v.op() + " " + v.shape() + ": " + v.path()
                    + (v.implementation().isEmpty() ? "" : " (" + v.implementation() + ")"));
            if (!v.rejected().isEmpty()) {
                ObjectNode r = rerouted.addObject();
                r.put("op", v.op()).put("shape", v.shape()).put("path", v.path());
                var why = r.putArray("rejected");
                v.rejected().forEach(x -> why.addObject().put("path", x.path()).put("implementation", x.implementation())
                        .put("check", x.comparison()));
            }
        }
        ObjectNode byOp = k.putObject("paths");
        counts.forEach((op, paths) -> {
            ObjectNode o = byOp.putObject(op);
            paths.forEach(o::put);
        });
        var events = k.putArray("later_failures");
        KernelChecks.events().forEach(events::add);
        return c;
    }

    /** The attention kernel asked for ({@code --attention}) and the one that ran, with why where they differ. */
    static ObjectNode attention() {
        AttentionKernel selected = AttentionKernel.selected();
        ObjectNode a = F.objectNode();
        a.put("selected", selected.label());
        a.put("kernel", AttentionKernel.effective().label());
        if (selected == AttentionKernel.SDPA && !SdpaKernel.available()) {
            a.put("fallback", SdpaKernel.unavailableReason());
        }
        return a;
    }

    /** The CPU's model name, family and model number from /proc/cpuinfo ("AMD EPYC, family 26 model 2, 2 CPUs"). */
    static String cpuName() {
        String cpus = Runtime.getRuntime().availableProcessors() + " CPUs";
        try {
            Map<String, String> first = CpuInfo.read().fields();
            if (first.containsKey("model name")) {
                return first.get("model name") + ", family " + first.get("cpu family") + " model " + first.get("model")
                        + ", " + cpus;
            }
        } catch (IOException | SecurityException e) {
            // not Linux: the architecture below
        }
        return System.getProperty("os.arch") + ", " + cpus;
    }
}

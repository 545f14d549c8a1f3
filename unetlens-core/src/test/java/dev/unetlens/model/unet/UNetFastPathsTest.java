package dev.unetlens.model.unet;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.unetlens.model.AttentionKernel;
import dev.unetlens.model.ForwardScope;
import dev.unetlens.model.HookTable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The fast paths a forward takes when nobody listens give what the plain paths give: attention chunked over the
 * queries (no listener on {@code :probs}) against the materialised probabilities (a listener on every
 * {@code :probs}), and a forward with the hook table detached against one with it attached.
 */
class UNetFastPathsTest {
    private static final NDManager M = GoldenUNets.MANAGER.newSubManager();

    @AfterAll
    static void close() {
        M.close();
    }

    @Test
    void chunkedAttentionGivesWhatMaterialisedProbabilitiesGive() {
        for (String model : GoldenUNets.models()) {
            UNet2DConditionModel unet = GoldenUNets.load(model);
            try (NDManager m = M.newSubManager()) {
                UNetInput in = GoldenUNets.input(m, model, 500);
                float[] fast = predict(unet, in);
                HookTable table = unet.hooks();
                List<Integer> probs = new ArrayList<>();
                for (HookTable.PointInfo p : table.points()) {
                    if (p.name().endsWith(":probs")) {
                        table.setListener(p.slot(), (point, x, value, ctx) -> value);
                        probs.add(p.slot());
                    }
                }
                float[] plain;
                try {
                    plain = predict(unet, in);
                } finally {
                    probs.forEach(s -> table.setListener(s, null));
                }
                assertThat(probs).as(model + " attention points").isNotEmpty();
                assertThat(maxDiff(fast, plain)).as(model + ": max |chunked − materialised|").isLessThanOrEqualTo(1e-6);
            }
        }
    }

    /**
     * With the fused kernel, looking at the probabilities changes no bit of the output: the output still comes from
     * SDPA, the probabilities are computed beside it. A listener that hands back a copy (a patch from the run into
     * itself) changes no bit either: SDPA's output plus (P′ − P)·V, exact zeros. Other probabilities P′ give P′·V:
     * the explicit kernel's mix of the same P′, within float rounding.
     */
    @Test
    void withSdpaLookingAtTheProbabilitiesChangesNoBit() {
        AttentionKernel before = AttentionKernel.selected();
        AttentionKernel.select(AttentionKernel.SDPA);
        try {
            for (String model : GoldenUNets.models()) {
                UNet2DConditionModel unet = GoldenUNets.load(model);
                try (NDManager m = M.newSubManager()) {
                    UNetInput in = GoldenUNets.input(m, model, 500);
                    float[] fused = predict(unet, in);
                    assertThat(fused).as(model + ": SDPA's output differs from the explicit kernel's somewhere")
                            .isNotEqualTo(explicit(unet, in));
                    float[] looked = withProbsListener(unet, in, (point, x, value, ctx) -> value);
                    assertThat(looked).as(model + ": output while the probabilities are captured").containsExactly(fused);
                    float[] copied = withProbsListener(unet, in, (point, x, value, ctx) -> value.duplicate());
                    assertThat(copied).as(model + ": the same probabilities handed back").containsExactly(fused);
                    HookTable.Listener halve = (point, x, value, ctx) -> value.mul(0.5f);
                    float[] edited = withProbsListener(unet, in, halve);
                    AttentionKernel.select(AttentionKernel.EXPLICIT);
                    float[] editedExplicit;
                    try {
                        editedExplicit = withProbsListener(unet, in, halve);
                    } finally {
                        AttentionKernel.select(AttentionKernel.SDPA);
                    }
                    assertThat(maxDiff(edited, fused)).as(model + ": halved probabilities change the output").isGreaterThan(1e-3);
                    assertThat(maxDiff(edited, editedExplicit)).as(model + ": SDPA + (P′ − P)·V against P′·V")
                            .isLessThanOrEqualTo(1e-5);
                }
            }
        } finally {
            AttentionKernel.select(before);
        }
    }

    private static float[] explicit(UNet2DConditionModel unet, UNetInput in) {
        AttentionKernel.select(AttentionKernel.EXPLICIT);
        try {
            return predict(unet, in);
        } finally {
            AttentionKernel.select(AttentionKernel.SDPA);
        }
    }

    /** One forward with {@code listener} on every {@code :probs} point. */
    private static float[] withProbsListener(UNet2DConditionModel unet, UNetInput in, HookTable.Listener listener) {
        HookTable table = unet.hooks();
        List<Integer> probs = new ArrayList<>();
        for (HookTable.PointInfo p : table.points()) {
            if (p.name().endsWith(":probs")) {
                table.setListener(p.slot(), listener);
                probs.add(p.slot());
            }
        }
        assertThat(probs).isNotEmpty();
        try {
            return predict(unet, in);
        } finally {
            probs.forEach(s -> table.setListener(s, null));
        }
    }

    @Test
    void detachedHookTableChangesNothing() {
        for (String model : GoldenUNets.models()) {
            UNet2DConditionModel unet = GoldenUNets.load(model);
            try (NDManager m = M.newSubManager()) {
                UNetInput in = GoldenUNets.input(m, model, 500);
                float[] attached = predict(unet, in);
                float[] detached;
                try (HookTable.Detached d = unet.hooks().detach()) {
                    detached = predict(unet, in);
                }
                assertThat(detached).as(model).containsExactly(attached);
                assertThat(predict(unet, in)).as(model + " after re-attaching").containsExactly(attached);
            }
        }
    }

    private static float[] predict(UNet2DConditionModel unet, UNetInput in) {
        try (ForwardScope scope = new ForwardScope()) {
            NDArray out = unet.forward(in);
            return out.toFloatArray();
        }
    }

    private static double maxDiff(float[] a, float[] b) {
        assertThat(a).hasSameSizeAs(b);
        double d = 0;
        for (int i = 0; i < a.length; i++) {
            d = Math.max(d, Math.abs(a[i] - b[i]));
        }
        return d;
    }
}

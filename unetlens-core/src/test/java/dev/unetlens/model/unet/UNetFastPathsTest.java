package dev.unetlens.model.unet;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
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

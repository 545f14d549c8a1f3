package dev.unetlens.hook;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.unetlens.UnetlensException;
import dev.unetlens.model.ForwardContext;
import dev.unetlens.model.ForwardContext.Branch;
import dev.unetlens.model.ForwardContext.RowLabel;
import dev.unetlens.model.HookTable;
import dev.unetlens.model.Linear;
import dev.unetlens.model.Module;
import dev.unetlens.model.Weights;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The hook API on a small two-layer module tree: capture, replace, order, scoping, errors, CFG rows. */
class HookScopeTest {
    private static final NDManager M = NDManager.newBaseManager();

    /** block(l1 → l2) → head; each a hook point. */
    static final class Block extends Module {
        final Linear l1;
        final Linear l2;

        Block(Weights w, String path) {
            super(path);
            l1 = add(new Linear(w, sub("l1"), 4, 4, true));
            l2 = add(new Linear(w, sub("l2"), 4, 4, true));
        }

        NDArray forward(NDArray x) {
            return emit(x, l2.forward(l1.forward(x)));
        }
    }

    static final class Net extends Module {
        final Block block;
        final Linear head;
        final HookTable hooks;

        Net(Weights w) {
            super("");
            block = add(new Block(w, sub("blocks.0")));
            head = add(new Linear(w, sub("head"), 4, 2, true));
            hooks = new HookTable(this);
        }

        NDArray forward(NDArray x) {
            return head.forward(block.forward(x));
        }
    }

    private static final Net NET = new Net(Weights.random(7, M, "test"));

    @AfterAll
    static void close() {
        M.close();
    }

    private static NDArray input() {
        return M.randomNormal(new Shape(2, 4));
    }

    @Test
    void capturedTensorIsTheModuleOutput() {
        NDArray x = input();
        NDArray expectedMid = NET.block.forward(x);
        try (HookScope s = HookScope.open(NET.hooks)) {
            ActivationCache cache = s.capture(List.of("blocks[0]", "blocks.0.l1"), Capture.Rows.ALL);
            NET.forward(x);
            assertThat(cache.get("blocks.0").toFloatArray()).containsExactly(expectedMid.toFloatArray());
            assertThat(cache.points()).containsExactlyInAnyOrder("blocks.0", "blocks.0.l1");
            assertThat(cache.steps("blocks.0")).containsExactly(-1);
        }
    }

    @Test
    void zeroingAModuleChangesOnlyWhatIsDownstream() {
        NDArray x = input();
        // expected values first: hooks fire on every call of a hooked module, so compute them outside the scope
        NDArray plain = NET.forward(x);
        NDArray l1 = NET.block.l1.forward(x);
        NDArray expectedBlock = NET.block.l2.forward(M.zeros(new Shape(2, 4)));   // l2(0) = l2's bias
        NDArray expectedOut = NET.head.forward(expectedBlock);
        try (HookScope s = HookScope.open(NET.hooks)) {
            ActivationCache before = s.capture(List.of("blocks.0.l1"), Capture.Rows.ALL);
            s.add("blocks.0.l1", Interventions.zero());
            ActivationCache after = s.capture(List.of("blocks.0.l1", "blocks.0"), Capture.Rows.ALL);
            NDArray out = NET.forward(x);
            // a hook added before the edit sees the original; the edit and everything downstream change
            assertThat(before.get("blocks.0.l1").toFloatArray()).containsExactly(l1.toFloatArray());
            assertThat(after.get("blocks.0.l1").toFloatArray()).containsOnly(0f);
            assertThat(after.get("blocks.0").toFloatArray()).containsExactly(expectedBlock.toFloatArray());
            assertThat(out.toFloatArray()).containsExactly(expectedOut.toFloatArray());
            assertThat(out.toFloatArray()).isNotEqualTo(plain.toFloatArray());
        }
        // removed on close: the plain result again
        assertThat(NET.forward(x).toFloatArray()).containsExactly(plain.toFloatArray());
    }

    @Test
    void hooksAreRemovedWhenTheRunFails() {
        NDArray x = input();
        NDArray plain = NET.forward(x);
        assertThatThrownBy(() -> {
            try (HookScope s = HookScope.open(NET.hooks)) {
                s.add("head", Interventions.scale(3));
                throw new IllegalStateException("run failed");
            }
        }).isInstanceOf(IllegalStateException.class);
        assertThat(NET.forward(x).toFloatArray()).containsExactly(plain.toFloatArray());
    }

    @Test
    void hooksAtOnePointRunInTheOrderAdded() {
        List<String> order = new ArrayList<>();
        try (HookScope outer = HookScope.open(NET.hooks); HookScope inner = HookScope.open(NET.hooks)) {
            outer.add("head", HookScope.observe((v, c) -> order.add("outer")));
            inner.add("head", HookScope.observe((v, c) -> order.add("inner")));
            outer.add("head", (v, c) -> {
                order.add("outer-scale");
                return v.mul(2);
            });
            NDArray x = input();
            NDArray scaled = NET.forward(x);
            inner.close();
            order.clear();
            NDArray again = NET.forward(x);
            assertThat(order).containsExactly("outer", "outer-scale");
            assertThat(again.toFloatArray()).containsExactly(scaled.toFloatArray());
        }
    }

    @Test
    void replacementsMustKeepTheShape() {
        try (HookScope s = HookScope.open(NET.hooks)) {
            s.add("blocks.0", (v, c) -> M.zeros(new Shape(2, 5)));
            assertThatThrownBy(() -> NET.forward(input()))
                    .isInstanceOf(UnetlensException.class)
                    .hasMessageContaining("blocks.0").hasMessageContaining("(2, 5)").hasMessageContaining("(2, 4)");
        }
    }

    @Test
    void unknownNamesSuggestTheNearest() {
        try (HookScope s = HookScope.open(NET.hooks)) {
            assertThatThrownBy(() -> s.add("blocks.0.l3", Interventions.zero()))
                    .isInstanceOf(UnetlensException.class)
                    .hasMessageStartingWith("unknown module 'blocks.0.l3'; nearest valid names: blocks.0.l1, blocks.0.l2");
        }
    }

    @Test
    void conditionalRowsAreSelectedFromACfgBatch() {
        NDArray x = input();
        NDArray block = NET.block.forward(x);
        NET.hooks.setContext(new ForwardContext(3, 801, List.of(new RowLabel(Branch.UNCOND, 0, 0), new RowLabel(Branch.COND, 0, 0))));
        try (HookScope s = HookScope.open(NET.hooks)) {
            ActivationCache cond = s.capture(List.of("blocks.0"), Capture.Rows.COND);
            ActivationCache uncond = s.capture(List.of("blocks.0"), Capture.Rows.UNCOND);
            NET.forward(x);
            assertThat(cond.get("blocks.0", 3).toFloatArray()).containsExactly(block.get("1:2").toFloatArray());
            assertThat(uncond.get("blocks.0", 3).toFloatArray()).containsExactly(block.get("0:1").toFloatArray());
            assertThat(cond.rows("blocks.0", 3)).containsExactly(new RowLabel(Branch.COND, 0, 0));
            assertThat(cond.timestep("blocks.0", 3)).isEqualTo(801.0);
        } finally {
            NET.hooks.setContext(ForwardContext.NONE);
        }
    }

    @Test
    void internalPointsAreReachedByTheirColonName() {
        // Module.point(":x") names resolve as path:x; the tree here has none, so the error lists real names
        try (HookScope s = HookScope.open(NET.hooks)) {
            assertThatThrownBy(() -> s.resolve("blocks.0:probs")).hasMessageStartingWith("unknown module 'blocks.0:probs'");
        }
    }
}

package dev.unetlens.model.unet;

import ai.djl.ndarray.NDArray;
import dev.unetlens.model.Module;

import java.util.ArrayList;
import java.util.List;

/**
 * What the two down block types share: the hook points of their output tuple.
 *
 * <p>Hook points, fired in this order when the block returns:
 * <ol>
 *   <li>{@code down_blocks.i} — the hidden states, [B, C, H', W'];</li>
 *   <li>{@code down_blocks.i.hidden_states} — the same tensor (the golden fixtures' name for it). A replacement at
 *       either point becomes the next block's input <em>and</em> the last skip tensor, because in diffusers the
 *       last entry of {@code output_states} is the very tensor returned as {@code hidden_states};</li>
 *   <li>{@code down_blocks.i.res_samples.k}, k in push order — each skip tensor; a replacement changes only what
 *       the up block that pops it concatenates (the down path has already moved on).</li>
 * </ol>
 * Replacing a child's output ({@code …resnets.j}, {@code …attentions.j}, {@code …downsamplers.0}) changes both
 * the rest of the block and the skip taken after that layer, as a forward hook does in diffusers.
 */
public abstract sealed class DownBlock extends Module permits CrossAttnDownBlock2D, DownBlock2D {
    private final Point hiddenPoint;
    private final List<Point> skipPoints = new ArrayList<>();

    protected DownBlock(String path, BlockArgs a) {
        super(path);
        hiddenPoint = point("hidden_states");
        for (int k = 0; k < skipCount(a); k++) {
            skipPoints.add(point("res_samples." + k));
        }
    }

    /** One skip per layer, plus one after the downsampler. */
    static int skipCount(BlockArgs a) {
        return a.layers() + (a.resample() ? 1 : 0);
    }

    /** h [B, Cin, H, W], temb [B, Ct], context [B, S, Dc] (unused by DownBlock2D) → hidden states and skips. */
    public abstract DownOutput forward(NDArray h, NDArray temb, NDArray context);

    /** Records the shapes of the block's points and children for input x; returns the skips' (last: hidden). */
    abstract List<long[]> shapes(ShapeSink s, long[] x);

    /**
     * Emits the block's outputs (see the class Javadoc) and assembles them: {@code skips} are the skip tensors
     * taken before {@code hidden}, which is appended as the last one.
     */
    protected final DownOutput finish(NDArray x, NDArray hidden, List<NDArray> skips) {
        NDArray h = emit(x, hidden);
        h = emit(hiddenPoint, x, h);
        List<NDArray> out = new ArrayList<>(skips);
        out.add(h);
        for (int k = 0; k < out.size(); k++) {
            out.set(k, emit(skipPoints.get(k), x, out.get(k)));
        }
        return new DownOutput(h, out);
    }

    /** Records the shapes of the block's own points; returns the skips' shapes, the hidden states' last. */
    protected final List<long[]> finishShapes(ShapeSink s, long[] hidden, List<long[]> skips) {
        s.put(this, hidden);
        s.put(sub("hidden_states"), hidden);
        List<long[]> all = new ArrayList<>(skips);
        all.add(hidden);
        for (int k = 0; k < all.size(); k++) {
            s.put(sub("res_samples." + k), all.get(k));
        }
        return all;
    }

    /** Shape after the stride-2 3×3 downsampling conv: (0, 1, 0, 1) zero pad for padding 0, as in diffusers. */
    static long[] downsampled(long[] x, int padding) {
        long h = padding == 0 ? ShapeSink.convSize(x[2] + 1, 3, 2, 0) : ShapeSink.convSize(x[2], 3, 2, padding);
        long w = padding == 0 ? ShapeSink.convSize(x[3] + 1, 3, 2, 0) : ShapeSink.convSize(x[3], 3, 2, padding);
        return ShapeSink.map(x[0], x[1], h, w);
    }
}

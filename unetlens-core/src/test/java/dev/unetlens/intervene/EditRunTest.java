package dev.unetlens.intervene;

import dev.unetlens.UnetlensException;
import dev.unetlens.hook.Capture;
import dev.unetlens.io.DType;
import dev.unetlens.io.NpyArray;
import dev.unetlens.io.SafetensorsFile;
import dev.unetlens.io.SafetensorsWriter;
import dev.unetlens.io.TensorInfo;
import dev.unetlens.pipeline.GenerationRequest;
import dev.unetlens.pipeline.GenerationResult;
import dev.unetlens.pipeline.Progress;
import dev.unetlens.pipeline.StableDiffusion;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.IntPredicate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * Edits on the bundled model: a hook that zeroes a module equals weights that make it output zero; each operation
 * changes exactly the selected steps, rows, channels and positions; mistakes fail before a run.
 */
class EditRunTest {
    /** A feature map of the last up block: [2, 32, 8, 8] at 64 × 64 with CFG. */
    static final String MAP = "up_blocks.3.attentions.0";
    /** Its first transformer block's tokens: [2, 64, 32] (T = 8·8). */
    static final String TOKENS = MAP + ".transformer_blocks.0";
    /** Its self-attention probabilities: [2, N, 64, 64]. */
    static final String PROBS = TOKENS + ".attn1:probs";

    @TempDir
    static Path dir;
    static StableDiffusion sd;
    static Recording baseline;
    static GenerationResult baseResult;

    @BeforeAll
    static void load() {
        sd = Tiny.load(dir);
        baseline = new Recording(sd.manager());
        try (Intervention iv = Intervention.prepare(sd, request(), List.of())) {
            baseResult = iv.generate(null, scope -> baseline.record(scope, List.of(MAP, TOKENS, PROBS), s -> true,
                    Capture.Rows.ALL), Progress.NONE);
        }
    }

    @AfterAll
    static void close() {
        baseline.close();
        sd.close();
    }

    static GenerationRequest request() {
        return Tiny.request("a lighthouse at dusk").negativePrompt("blurry").build();
    }

    /**
     * Zeroing cross-attention's output (attn2 = to_out.0) and eight conv_in channels with hooks equals running a
     * model whose to_out.0 and those conv_in rows have zero weights and biases: y = W·x + b = 0 exactly, so every
     * later tensor is the same, bit for bit.
     */
    @Test
    void zeroingWithAHookEqualsZeroWeights(@TempDir Path tmp) {
        String attn2 = "mid_block.attentions.0.transformer_blocks.0.attn2";
        Path model = tmp.resolve("zeroed");
        dev.unetlens.synth.SyntheticModel.TINY_SD15.write(model, Tiny.MODEL_SEED);
        Path unet = model.resolve("unet/diffusion_pytorch_model.safetensors");
        rewrite(unet, Map.of(attn2 + ".to_out.0.weight", -1, attn2 + ".to_out.0.bias", -1,
                "conv_in.weight", 8, "conv_in.bias", 8));
        GenerationResult hooked;
        try (Intervention iv = Intervention.prepare(sd, request(),
                List.of(Edit.parse(attn2 + ":zero"), Edit.parse("conv_in:zero@channels=0-7")))) {
            hooked = iv.generate(null, null, Progress.NONE);
        }
        GenerationResult weights;
        try (StableDiffusion zeroed = StableDiffusion.load(model, StableDiffusion.Options.DEFAULT)) {
            weights = new dev.unetlens.pipeline.Pipeline(zeroed).generate(request());
        }
        assertThat(hooked.finalLatents().toFloats()).isEqualTo(weights.finalLatents().toFloats());
        assertThat(hooked.images().getFirst().rgb()).isEqualTo(weights.images().getFirst().rgb());
        assertThat(hooked.finalLatents().toFloats()).as("the edits change the run").isNotEqualTo(baseResult.finalLatents().toFloats());
    }

    /** Rewrites a safetensors file with the first {@code rows} rows (−1: all) of the named F32 tensors set to zero. */
    private static void rewrite(Path file, Map<String, Integer> zeroRows) {
        SafetensorsWriter w = new SafetensorsWriter();
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            for (TensorInfo t : f.tensors()) {
                Integer rows = zeroRows.get(t.name());
                if (rows == null) {
                    w.add(t.name(), t.dtype(), t.shape(), f.data(t.name()));
                    continue;
                }
                assertThat(t.dtype()).isEqualTo(DType.F32);
                float[] v = new float[(int) t.elementCount()];
                f.data(t.name()).asByteBuffer().order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
                int perRow = (int) (t.elementCount() / t.shape()[0]);
                Arrays.fill(v, 0, rows < 0 ? v.length : rows * perRow, 0f);
                w.addFloats(t.name(), t.shape(), v);
            }
            w.write(file);
        }
    }

    /**
     * Each operation at step 2 on the conditional rows, channels 0–3 and 8, and the centre box: at step 1 the map is
     * the baseline's; at step 2 the selected elements are op(baseline) and every other element is the baseline's,
     * bit for bit.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            zero       | 0
            scale=0.5  | 1
            add=1.5    | 2
            replace=-2 | 3
            steer      | 4
            """)
    void operationsChangeExactlyTheSelection(String op, int kind, @TempDir Path tmp) {
        float[] vec = new float[32];
        for (int c = 0; c < 32; c++) {
            vec[c] = c + 1;
        }
        String text = op.equals("steer") ? "steer=" + npy(tmp, vec) + "*0.5" : op;
        Edit e = Edit.parse(MAP + ":" + text + "@steps=2,rows=cond,channels=0-3,8,box=0.25,0.25,0.75,0.75");
        float[][] after = editedRun(e, MAP);
        float[] before0 = baseline.get(MAP, 0).toFloatArray();
        float[] before1 = baseline.get(MAP, 1).toFloatArray();
        assertThat(after[0]).as("step 1, before the edit").isEqualTo(before0);
        int selected = 0;
        for (int b = 0; b < 2; b++) {
            for (int c = 0; c < 32; c++) {
                for (int i = 0; i < 8; i++) {
                    for (int j = 0; j < 8; j++) {
                        int k = ((b * 32 + c) * 8 + i) * 8 + j;
                        boolean sel = b == 1 && (c <= 3 || c == 8) && i >= 2 && i <= 5 && j >= 2 && j <= 5;
                        float x = before1[k];
                        float expected = !sel ? x : switch (kind) {
                            case 0 -> 0f;
                            case 1 -> x * 0.5f;
                            case 2 -> x + 1.5f;
                            case 3 -> -2f;
                            default -> x + vec[c] * 0.5f;
                        };
                        if (Float.floatToIntBits(after[1][k]) != Float.floatToIntBits(expected) && !(expected == 0 && after[1][k] == 0)) {
                            throw new AssertionError(op + ": element [" + b + ", " + c + ", " + i + ", " + j + "] is "
                                    + after[1][k] + ", expected " + expected + (sel ? " (selected)" : " (not selected)"));
                        }
                        selected += sel ? 1 : 0;
                    }
                }
            }
        }
        assertThat(selected).isEqualTo(5 * 16);
    }

    /** A region on tokens [B, T, C] selects positions of the level's H×W map (T = 8·8): rows 2–5, columns 2–5. */
    @Test
    void regionsOnTokensAndAttentionProbabilities() {
        float[][] after = editedRun(Edit.parse(TOKENS + ":zero@steps=1,box=0.25,0.25,0.75,0.75"), TOKENS);
        float[] before = baseline.get(TOKENS, 0).toFloatArray();
        long[] shape = baseline.get(TOKENS, 0).getShape().getShape();          // [2, 64, 32]
        assertThat(shape).containsExactly(2, 64, 32);
        for (int b = 0; b < 2; b++) {
            for (int t = 0; t < 64; t++) {
                boolean sel = t / 8 >= 2 && t / 8 <= 5 && t % 8 >= 2 && t % 8 <= 5;
                for (int c = 0; c < 32; c++) {
                    int k = (b * 64 + t) * 32 + c;
                    assertThat(after[0][k]).isEqualTo(sel ? 0f : before[k]);
                }
            }
        }
        // probabilities [B, N, T, S]: channels are heads, the region is over the queries T
        long[] ps = baseline.get(PROBS, 0).getShape().getShape();
        int n = (int) ps[1];
        float[][] pa = editedRun(Edit.parse(PROBS + ":zero@steps=1,channels=0,box=0,0,0.5,1"), PROBS);
        float[] pb = baseline.get(PROBS, 0).toFloatArray();
        for (int b = 0; b < 2; b++) {
            for (int h = 0; h < n; h++) {
                for (int t = 0; t < 64; t++) {
                    boolean sel = h == 0 && t % 8 < 4;
                    for (int s = 0; s < 64; s++) {
                        int k = ((b * n + h) * 64 + t) * 64 + s;
                        if (pa[0][k] != (sel ? 0f : pb[k])) {
                            throw new AssertionError("probs [" + b + ", " + h + ", " + t + ", " + s + "]");
                        }
                    }
                }
            }
        }
    }

    /** Runs the request with {@code e}, recording {@code point} after the edit at steps 1 and 2. */
    private static float[][] editedRun(Edit e, String point) {
        try (Intervention iv = Intervention.prepare(sd, request(), List.of(e)); Recording after = new Recording(sd.manager())) {
            IntPredicate first2 = s -> s < 2;
            iv.generate(null, scope -> after.record(scope, List.of(point), first2, Capture.Rows.ALL), Progress.NONE);
            return new float[][] {after.get(point, 0).toFloatArray(), after.get(point, 1).toFloatArray()};
        }
    }

    private static String npy(Path tmp, float[] v) {
        Path p = tmp.resolve("v.npy");
        dev.unetlens.io.Npy.write(p, NpyArray.ofFloats(new long[] {v.length}, v));
        return p.toString();
    }

    /** The difference tensors of an edited run: zero before the edit, −baseline where the edit zeroes the output. */
    @Test
    void differencesOfAnEditedRun() {
        Edit e = Edit.parse(MAP + ":zero@steps=2");
        try (Intervention iv = Intervention.prepare(sd, request(), List.of(e))) {
            List<Differences.Difference> out = new java.util.ArrayList<>();
            iv.generate(null, scope -> Differences.observe(scope, baseline, List.of(MAP), s -> s < 2, Capture.Rows.ALL, out::add),
                    Progress.NONE);
            assertThat(out).hasSize(2);
            assertThat(out.get(0).step()).isZero();
            assertThat(out.get(0).deltaNorm()).isZero();
            assertThat(out.get(0).delta().toFloats()).containsOnly(0f);
            float[] base = baseline.get(MAP, 1).toFloatArray();
            float[] d = out.get(1).delta().toFloats();
            for (int k = 0; k < d.length; k++) {
                assertThat(d[k]).isEqualTo(-base[k]);
            }
            assertThat(out.get(1).relative()).isEqualTo(1.0);
        }
    }

    /** Mistakes fail in one line before anything runs. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            M00:zero@channels=0-999                       | channel 999 is out of range for mid_block [2, 64, 1, 1], which has 64
            :emb:zero@box=0,0,1,1                          | a region applies to feature maps
            up_blocks.3.attentions.0.transformer_blocks.0.attn2.to_k:zero@box=0,0,1,1 | has no map axes
            M00:zero@steps=4                               | step selection '4' is outside 1–3
            mid_blok:zero                                  | unknown module 'mid_blok'; nearest valid names: mid_block
            OUT12:zero                                     | unknown block 'OUT12'
            add_time_proj:zero                             | unknown module 'add_time_proj'
            """)
    void resolveErrors(String text, String message) {
        UnetlensException e = catchThrowableOfType(UnetlensException.class,
                () -> Edits.resolve(sd, request(), List.of(Edit.parse(text))));
        assertThat(e).as("rejected").isNotNull();
        assertThat(e.getMessage()).startsWith("--edit '").contains(message).doesNotContain("\n");
    }

    @Test
    void steeringVectorsAndRowsAreChecked(@TempDir Path tmp) {
        Edit steer = Edit.parse("M00:steer=" + npy(tmp, new float[5]));
        assertThat(catchThrowableOfType(UnetlensException.class, () -> Edits.resolve(sd, request(), List.of(steer))))
                .hasMessageContaining("one value per channel: mid_block [2, 64, 1, 1] has 64, ");
        GenerationRequest noCfg = Tiny.request("x").guidance(1).build();
        assertThat(catchThrowableOfType(UnetlensException.class,
                () -> Edits.resolve(sd, noCfg, List.of(Edit.parse("M00:zero@rows=cond")))))
                .hasMessageContaining("needs classifier-free guidance");
        Edits ok = Edits.resolve(sd, request(), List.of(Edit.parse("IN04-IN05:patch@steps=2"), Edit.parse("IN05:patch@steps=3"),
                Edit.parse("M00:patch")));
        Map<String, Set<Integer>> needs = ok.patchPoints();
        assertThat(needs.keySet()).containsExactly("down_blocks.1.attentions.0", "down_blocks.1.attentions.1", "mid_block");
        assertThat(needs.get("down_blocks.1.attentions.0")).containsExactly(1);
        assertThat(needs.get("down_blocks.1.attentions.1")).containsExactly(1, 2);
        assertThat(needs.get("mid_block")).as("every step").isNull();
    }
}

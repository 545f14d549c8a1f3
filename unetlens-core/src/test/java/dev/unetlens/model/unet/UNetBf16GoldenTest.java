package dev.unetlens.model.unet;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.unetlens.golden.Golden;
import dev.unetlens.golden.GoldenModels;
import dev.unetlens.model.Bf16;
import dev.unetlens.model.Precision;
import dev.unetlens.model.check.KernelChecks;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The bf16 path's error against fp32, on every golden U-Net case ({@code cases/<model>/unet/t<N>/out.npy}, discovered
 * from the index): the output of the U-Net whose products run in bf16 set against the golden fp32 output (diffusers'),
 * as the maximum absolute error and the relative error ‖bf16 − fp32‖₂ / ‖fp32‖₂, printed per case.
 *
 * <p>The bound, {@value #RELATIVE_BOUND} relative. Each bf16 product rounds its two factors to 8 significant bits
 * (relative error at most u = 2⁻⁸ each) and its output once more, so one product's output is off by up to about 3u
 * ≈ 1.2 % of the size of its terms, and by about √3·u/√3 ≈ u ≈ 0.4 % in the root-mean-square where the roundings are
 * independent and of random sign. Between the products sit the norms, which rescale every map to unit size and so
 * stop errors from compounding in size, and the residual sums, which add them: a U-Net path from input to output
 * passes on the order of L ≈ 25 products (SD 1.5: conv_in, 2 convs per resnet, 4 products per attention, …), so
 * √L·u ≈ 2 % of the output's RMS when the errors are independent. The bound is 4× that, 8 % (measured on the
 * bundled fixtures: 0.9–1.2 %, max abs 0.015–0.027 on outputs up to 2.4): an error of the size of a wrong kernel, an op left in bf16 that accumulates in bf16 (√K·u of whole sums), or a
 * lost residual is far beyond it. The fp32 path of the same bf16 model ({@link Bf16#suspended}, the run-time
 * reference forward) must still match the golden output at the golden tolerances: the bf16 copies change nothing of
 * the fp32 way.
 */
class UNetBf16GoldenTest {
    static final double RELATIVE_BOUND = 0.08;
    private static final Pattern TIMESTEP_DIR = Pattern.compile("cases/[^/]+/unet/(t(\\d+))/out\\.npy");

    @TestFactory
    Stream<DynamicNode> bf16AgainstFp32() {
        assertThat(GoldenUNets.models()).as("golden models with U-Net cases").isNotEmpty();
        return GoldenUNets.models().stream().map(model -> {
            List<DynamicNode> tests = new ArrayList<>();
            Golden.get().entries("unet").filter(e -> model.equals(e.model())).forEach(e -> {
                Matcher t = TIMESTEP_DIR.matcher(e.file());
                if (t.matches()) {
                    long timestep = e.node().has("timestep") ? e.node().get("timestep").asLong() : Long.parseLong(t.group(2));
                    tests.add(DynamicTest.dynamicTest(t.group(1), () -> check(model, e.file(), timestep)));
                }
            });
            assertThat(tests).as(model + ": U-Net timestep cases").isNotEmpty();
            return DynamicContainer.dynamicContainer(model, tests);
        });
    }

    private static void check(String model, String outFile, long timestep) {
        UNet2DConditionModel unet = GoldenUNets.loadBf16(model);
        assertThat(unet.precision()).isEqualTo(Precision.BF16);
        try (NDManager m = GoldenUNets.MANAGER.newSubManager()) {
            UNetInput in = GoldenUNets.input(m, model, timestep);
            float[] golden = GoldenModels.load(m, outFile).toFloatArray();
            float[] bf16 = unet.forward(in).toFloatArray();
            NDArray fp32 = Bf16.suspended(() -> unet.forward(in));
            GoldenModels.assertClose(outFile, fp32, UNet2DConditionModelGoldenTest.ATOL, UNet2DConditionModelGoldenTest.RTOL);
            Bf16Error.Difference e = Bf16Error.Difference.of(bf16, golden);
            System.out.printf(Locale.ROOT, "bf16 vs fp32 golden %s %s: max abs %.3g (golden max |y| %.3g), relative L2 %.3g%n",
                    model, outFile, e.maxAbs(), e.maxReference(), e.relativeL2());
            assertThat(e.relativeL2()).as("%s %s: relative L2 error of bf16 (max abs %.3g)", model, outFile, e.maxAbs())
                    .isLessThanOrEqualTo(RELATIVE_BOUND);
            assertThat(e.relativeL2()).as("bf16 must differ from fp32 somewhere, or the bf16 way did not run").isPositive();
            List<KernelChecks.Verdict> bf16Ways = KernelChecks.verdicts().stream()
                    .filter(v -> v.shape().endsWith(" bf16")).toList();
            assertThat(bf16Ways).as("bf16 convolutions and products checked").isNotEmpty();
            assertThat(bf16Ways).as("every bf16 kernel passed its float64 check (none fell back to fp32)")
                    .allSatisfy(v -> assertThat(v.path()).isEqualTo("bf16"));
        }
    }
}

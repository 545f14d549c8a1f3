package dev.unetlens.io.ldm;

import dev.unetlens.io.DType;
import dev.unetlens.io.SafetensorsFile;
import dev.unetlens.io.TensorInfo;
import dev.unetlens.io.TensorSource;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * Every golden single file (README §15) against the diffusers folder it was made from: each component's view has
 * exactly the folder's keys and shapes, and every tensor equals the folder's bit for bit after widening to float32
 * (the fp16 file against the {@code *.fp16.safetensors} variants, or against the float32 weights rounded to half
 * where a component has no variant file); the key counts per prefix are the index's.
 */
class SingleFileGoldenTest {

    @TestFactory
    Stream<DynamicNode> singleFiles() {
        return GoldenSingleFiles.all().stream().map(f -> {
            List<DynamicNode> tests = new ArrayList<>();
            tests.add(DynamicTest.dynamicTest("key counts per prefix are the index's", () -> prefixCounts(f)));
            tests.add(DynamicTest.dynamicTest("SD 1.x with U-Net, VAE and text encoder, nothing left over",
                    () -> family(f)));
            for (LdmComponent c : List.of(LdmComponent.UNET, LdmComponent.VAE, LdmComponent.TEXT_ENCODER)) {
                tests.add(DynamicTest.dynamicTest(c + " equals " + f.model() + "/" + c, () -> component(f, c)));
            }
            return DynamicContainer.dynamicContainer(f.label(), tests);
        });
    }

    private static void prefixCounts(GoldenSingleFiles f) {
        Map<String, Integer> expected = f.prefixCounts();
        try (SingleFileCheckpoint ckpt = f.open()) {
            Map<String, Integer> actual = new TreeMap<>();
            for (String key : ckpt.shapes().keySet()) {
                expected.keySet().stream().filter(key::startsWith).forEach(p -> actual.merge(p, 1, Integer::sum));
            }
            assertThat(actual).isEqualTo(new TreeMap<>(expected));
            assertThat(ckpt.shapes()).hasSize(f.entry().get("tensors").asInt());
            for (LdmComponent c : ckpt.components()) {
                long ignored = ckpt.ignored().keySet().stream().filter(k -> k.startsWith(ckpt.prefix(c))).count();
                assertThat(ckpt.component(c).names().size() + ignored).as(c + " tensors + ignored")
                        .isEqualTo((long) expected.get(ckpt.prefix(c)));
            }
        }
    }

    private static void family(GoldenSingleFiles f) {
        try (SingleFileCheckpoint ckpt = f.open()) {
            assertThat(ckpt.family()).isEqualTo(LdmFamily.SD1);
            assertThat(ckpt.components()).containsExactly(LdmComponent.UNET, LdmComponent.VAE, LdmComponent.TEXT_ENCODER);
            assertThat(ckpt.ignored()).isEmpty();
            assertThat(ckpt.unrecognized()).isEmpty();
        }
    }

    private static void component(GoldenSingleFiles f, LdmComponent c) {
        try (SingleFileCheckpoint ckpt = f.open(); SafetensorsFile ref = SafetensorsFile.open(f.reference(c))) {
            TensorSource view = ckpt.component(c);
            assertThat(new TreeSet<>(view.names())).as("keys of " + c).isEqualTo(new TreeSet<>(ref.names()));
            int compared = 0;
            for (String name : ref.names()) {
                TensorInfo want = ref.info(name).orElseThrow();
                TensorInfo got = view.info(name).orElseThrow();
                assertThat(got.shape()).as(name + " shape").isEqualTo(want.shape());
                int[] expected = Blob.float32Bits(want.dtype(), ref.data(name));
                if (got.dtype() == DType.F16 && want.dtype() == DType.F32) {
                    expected = halfRounded(expected);   // no variant file: the conversion's tensor.half()
                }
                int[] actual = Blob.float32Bits(got.dtype(), view.data(name));
                if (!java.util.Arrays.equals(actual, expected)) {
                    int i = java.util.Arrays.mismatch(actual, expected);
                    fail(name + " (from " + ckpt.fileKey(c, name) + ") differs first at element " + i + ": "
                            + Float.intBitsToFloat(actual[i]) + " vs " + Float.intBitsToFloat(expected[i]));
                }
                compared++;
            }
            assertThat(compared).isEqualTo(ref.names().size()).isPositive();
        }
    }

    private static int[] halfRounded(int[] float32) {
        int[] out = new int[float32.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = Float.floatToRawIntBits(Float.float16ToFloat(Float.floatToFloat16(Float.intBitsToFloat(float32[i]))));
        }
        return out;
    }
}

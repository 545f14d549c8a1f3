package dev.unetlens.model;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.UnetlensException;
import dev.unetlens.config.ConfigException;
import dev.unetlens.config.JsonConfig;
import dev.unetlens.config.UNetConfig;
import dev.unetlens.config.VaeConfig;
import dev.unetlens.golden.Golden;
import dev.unetlens.golden.ModelCopy;
import dev.unetlens.io.DType;
import dev.unetlens.io.DiffusersFolder;
import dev.unetlens.io.SafetensorsFile;
import dev.unetlens.io.TensorInfo;
import dev.unetlens.io.TensorSource;
import dev.unetlens.model.unet.UNet2DConditionModel;
import dev.unetlens.model.vae.AutoencoderKL;
import dev.unetlens.pipeline.StableDiffusion;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Weight files holding what a model cannot use are refused in one line before any of it reaches native code or is
 * allocated: an I16 tensor used to abort the JVM ({@code terminate called without an active exception}), integer
 * tensors were taken as float weights, and placeholders sized from the config were allocated before the shapes were
 * checked (137 GB for {@code time_embedding_dim} 2147483647).
 */
class HostileWeightsTest {
    @TempDir
    Path tmp;

    private static String model() {
        return Golden.get().models().getFirst();
    }

    /** Every dtype that is no float, I16 first, in the U-Net: refused by the loader, naming file, tensor and dtype. */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"I16", "I8", "U8", "BOOL", "I32", "I64", "U16", "U32", "U64", "F8_E4M3",
        "F8_E5M2"})
    void nonFloatingTensorsAreRefusedByName(DType dtype) {
        Path copy = ModelCopy.of(model(), tmp.resolve("m"));
        Path file = DiffusersFolder.open(copy).weightFile("unet", null);
        String relative = copy.relativize(file).toString();
        String tensor = ModelCopy.tensors(copy, relative).getLast();
        ModelCopy.retype(copy, relative, tensor, dtype);
        try (SafetensorsFile f = SafetensorsFile.open(file); NDManager m = NDManager.newBaseManager()) {
            assertThatThrownBy(() -> UNet2DConditionModel.load(f, UNetConfig.read(copy.resolve("unet/config.json")), m))
                    .isInstanceOf(WeightsException.class)
                    .hasMessage("unet weights in " + file + ": wrong dtype 1: '" + tensor + "' " + dtype
                            + "; — weights must be F16, BF16, F32 or F64; convert the file");
        }
    }

    /** The same I16 tensor in the VAE, through the whole pipeline's loader. */
    @Test
    void anInt16TensorFailsThePipelineLoadInOneLine() {
        Path copy = ModelCopy.of(model(), tmp.resolve("m"));
        Path file = DiffusersFolder.open(copy).weightFile("vae", null);
        String relative = copy.relativize(file).toString();
        String tensor = ModelCopy.tensors(copy, relative).getFirst();
        ModelCopy.retype(copy, relative, tensor, DType.I16);
        assertThatThrownBy(() -> StableDiffusion.load(copy, StableDiffusion.Options.DEFAULT).close())
                .isInstanceOf(WeightsException.class)
                .hasMessageContaining(file.toString()).hasMessageContaining("'" + tensor + "' I16")
                .hasMessageNotContaining("\n");
    }

    /** {@link Tensors#load} itself takes floating dtypes only: no other reaches the engine, whoever calls it. */
    @ParameterizedTest
    @EnumSource(DType.class)
    void onlyFloatingTensorsReachTheEngine(DType dtype) {
        TensorInfo info = new TensorInfo("t", dtype, new long[] {2}, 0, 2L * dtype.size());
        MemorySegment bytes = MemorySegment.ofArray(new byte[2 * dtype.size()]);
        try (NDManager m = NDManager.newBaseManager()) {
            if (dtype.isFloat()) {
                assertThat(Tensors.load(m, info, bytes).getShape().getShape()).containsExactly(2);
            } else {
                assertThatThrownBy(() -> Tensors.load(m, info, bytes)).isInstanceOf(UnetlensException.class)
                        .hasMessage("tensor 't' has dtype " + dtype + ", which is no floating weight; convert the file"
                                + " to F16, BF16 or F32");
            }
        }
    }

    /**
     * A config asking for tensors the file does not have fails before a byte of the file is read or a tensor of the
     * config's sizes is allocated; out-of-range sizes fail as config errors.
     */
    @Test
    void shapesAreCheckedBeforeAnythingIsAllocated() {
        Path dir = Golden.get().path("models/" + model());
        Path weights = DiffusersFolder.open(dir).weightFile("unet", null);
        JsonConfig base = JsonConfig.read(dir.resolve("unet/config.json"));
        ObjectNode wide = base.node().deepCopy();
        wide.put("time_embedding_dim", UNetConfig.TIME_EMBEDDING_DIM.max());
        wide.put("in_channels", UNetConfig.IN_CHANNELS.max());
        AtomicInteger reads = new AtomicInteger();
        try (SafetensorsFile f = SafetensorsFile.open(weights); NDManager m = NDManager.newBaseManager()) {
            TensorSource counting = counting(f, reads);
            assertThatThrownBy(() -> UNet2DConditionModel.load(counting, UNetConfig.from(new JsonConfig("wide", wide)), m))
                    .isInstanceOf(WeightsException.class)
                    .hasMessageContaining("wrong shape").hasMessageContaining("time_embedding.linear_1.weight");
        }
        assertThat(reads).as("tensors read before the shapes were checked").hasValue(0);

        ObjectNode huge = base.node().deepCopy();
        huge.put("time_embedding_dim", Integer.MAX_VALUE);
        assertThatThrownBy(() -> UNetConfig.from(new JsonConfig("huge.json", huge)))
                .isInstanceOf(ConfigException.class)
                .hasMessage("huge.json: time_embedding_dim must be in [1, 65536], got 2147483647");
    }

    /** A VAE built from a config whose layers the file lacks reads nothing either. */
    @Test
    void aVaeWithMoreLayersThanItsFileReadsNothing() {
        Path dir = Golden.get().path("models/" + model());
        ObjectNode deep = JsonConfig.read(dir.resolve("vae/config.json")).node().deepCopy();
        deep.put("layers_per_block", VaeConfig.LAYERS.max());
        AtomicInteger reads = new AtomicInteger();
        try (SafetensorsFile f = SafetensorsFile.open(DiffusersFolder.open(dir).weightFile("vae", null));
             NDManager m = NDManager.newBaseManager()) {
            assertThatThrownBy(() -> AutoencoderKL.load(counting(f, reads), VaeConfig.from(new JsonConfig("deep", deep)), m))
                    .isInstanceOf(WeightsException.class).hasMessageContaining("missing");
        }
        assertThat(reads).hasValue(0);
    }

    /** {@code source}, counting the tensors read from it. */
    private static TensorSource counting(TensorSource source, AtomicInteger reads) {
        return new TensorSource() {
            @Override
            public List<String> names() {
                return source.names();
            }

            @Override
            public Optional<TensorInfo> info(String name) {
                return source.info(name);
            }

            @Override
            public MemorySegment data(String name) {
                reads.incrementAndGet();
                return source.data(name);
            }

            @Override
            public String describe() {
                return source.describe();
            }

            @Override
            public void close() {
            }
        };
    }
}

package dev.unetlens.cli;

import dev.unetlens.convert.ConvertRequest;
import dev.unetlens.convert.Converter;
import dev.unetlens.io.CacheDir;
import dev.unetlens.io.DType;
import dev.unetlens.io.FileHashes;
import dev.unetlens.io.OutputDirectory;
import dev.unetlens.io.ldm.InferOptions;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code unetlens convert}: a checkpoint into another layout or element type, with the loader's own key maps; the
 * output is read back and compared with the source before the run counts as complete.
 */
@Command(name = "convert", mixinStandardHelpOptions = true, sortOptions = false,
        header = "Convert a model: .ckpt to .safetensors, single file <-> diffusers folder, fp32 <-> fp16/bf16.",
        description = {"Convert a model without Python: a .ckpt/.pt (read by the restricted pickle reader, which runs",
            "nothing) or .safetensors single file into a single .safetensors file or a diffusers folder, a",
            "diffusers folder into a single file, and any of them to another float type (f32, f16, bf16; rounded",
            "to nearest even as torch rounds). Key maps and configs are the loader's (configs of a single file",
            "are inferred, or taken from --config). A single file keeps every tensor of the state dict and the",
            "EMA copy unless --drop-ema; --ema writes the EMA U-Net as the U-Net. Every file is written",
            "atomically, read back and compared with its source; manifest.json records the SHA-256 of every",
            "file read and written."})
public final class ConvertCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model;

    @ArgGroup(validate = false, heading = "%nConversion%n", exclusive = false)
    Conversion conversion = new Conversion();

    @ArgGroup(validate = false, heading = "%nOutput%n", exclusive = false)
    OutputOptions output = new OutputOptions();

    /** The options of the conversion itself. */
    static final class Conversion {
        @Option(names = "--to", paramLabel = "LAYOUT", converter = LayoutConverter.class,
                description = "single-file or diffusers (default: single-file).")
        ConvertRequest.Layout to;

        @Option(names = "--dtype", paramLabel = "TYPE", converter = DTypeConverter.class,
                description = "Write floating tensors as f32, f16 or bf16 (default: as they are).")
        DType dtype;

        @Option(names = "--drop-ema", description = "Leave a single file's EMA weights (model_ema.*) out.")
        boolean dropEma;

        @Option(names = "--name", paramLabel = "FILE",
                description = "File name of a single-file output (default: the model's name with .safetensors).")
        String name;
    }

    @Override
    public Integer call() {
        model.refuseLoras("convert", "writes the model's own weights and does not bake LoRAs in yet");
        if (model.ema && conversion.dropEma) {
            throw new CommandLine.ParameterException(new CommandLine(this), "--ema and --drop-ema exclude each other");
        }
        ConvertRequest request = new ConvertRequest(model.path(),
                conversion.to == null ? ConvertRequest.Layout.SINGLE_FILE : conversion.to, conversion.dtype,
                model.ema ? ConvertRequest.Ema.USE : conversion.dropEma ? ConvertRequest.Ema.DROP : ConvertRequest.Ema.KEEP,
                model.variant, model.configs, new InferOptions(model.predictionType, null, null), conversion.name);
        if (request.configs() != null && Files.isDirectory(request.model())) {
            throw new dev.unetlens.UnetlensException("--config applies to single-file checkpoints; " + request.model()
                    + " is a diffusers folder with configs of its own");
        }
        OutputDirectory out = output.open("convert");
        Converter.run(request, out, ConsoleProgress.forStderr(), new FileHashes(CacheDir.root()));
        out.finish();
        System.out.println("wrote " + out.dir());
        return 0;
    }

    /** picocli converter: {@code single-file} / {@code diffusers}. */
    static final class LayoutConverter implements CommandLine.ITypeConverter<ConvertRequest.Layout> {
        @Override
        public ConvertRequest.Layout convert(String value) {
            for (ConvertRequest.Layout l : ConvertRequest.Layout.values()) {
                if (l.cliName().equals(value.toLowerCase(Locale.ROOT))) {
                    return l;
                }
            }
            throw new CommandLine.TypeConversionException("'" + value + "' is not a layout; choose single-file or diffusers");
        }
    }

    /** picocli converter: {@code f32} / {@code fp32} / {@code float32}, {@code f16}, {@code bf16}, {@code f64}. */
    static final class DTypeConverter implements CommandLine.ITypeConverter<DType> {
        @Override
        public DType convert(String value) {
            return switch (value.toLowerCase(Locale.ROOT)) {
                case "f32", "fp32", "float32", "float" -> DType.F32;
                case "f16", "fp16", "float16", "half" -> DType.F16;
                case "bf16", "bfloat16" -> DType.BF16;
                case "f64", "fp64", "float64", "double" -> DType.F64;
                default -> throw new CommandLine.TypeConversionException("'" + value + "' is not a float type; choose"
                        + " f32, f16 or bf16");
            };
        }
    }
}

package dev.unetlens.convert;

import dev.unetlens.UnetlensException;
import dev.unetlens.io.DType;
import dev.unetlens.io.ldm.InferOptions;

import java.nio.file.Path;
import java.util.Locale;

/**
 * What {@link Converter} is asked to do.
 *
 * @param model   a single-file checkpoint (safetensors or PyTorch) or a diffusers folder
 * @param to      the layout to write
 * @param dtype   the floating type to write tensors as, or null to keep each tensor's own
 * @param ema     what to do with a single file's EMA weights ({@code model_ema.*})
 * @param variant the weight variant to read from a diffusers folder ({@code fp16}), or null
 * @param configs a diffusers folder whose configs describe a single file, or null to infer them
 * @param infer   settings a single file cannot record, for inferred configs
 * @param name    the single file's name, or null for the model's name with {@code .safetensors}
 */
public record ConvertRequest(Path model, Layout to, DType dtype, Ema ema, String variant, Path configs,
                             InferOptions infer, String name) {
    /** The layouts a model can be written in. */
    public enum Layout {
        /** One safetensors file in LDM naming, as A1111 and ComfyUI load it. */
        SINGLE_FILE,
        /** A diffusers folder: model_index.json and one folder per component. */
        DIFFUSERS;

        /** {@code single-file} / {@code diffusers}. */
        public String cliName() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }

    /** What becomes of the EMA copy of the U-Net that LDM training checkpoints carry. */
    public enum Ema {
        /** Written as it is (single file); not part of a diffusers folder. */
        KEEP,
        /** Left out. */
        DROP,
        /** Written as the U-Net, in place of the trained weights (diffusers' extract_ema); the copy is left out. */
        USE
    }

    public ConvertRequest {
        if (dtype != null && !dtype.isFloat()) {
            throw new UnetlensException("--dtype must be f32, f16, bf16 or f64, got " + dtype);
        }
        if (name != null && (name.isBlank() || name.contains("/") || name.contains("\\") || name.startsWith("."))) {
            throw new UnetlensException("--name must be a plain file name, got '" + name + "'");
        }
        if (ema == null) {
            ema = Ema.KEEP;
        }
        if (infer == null) {
            infer = InferOptions.DIFFUSERS_DEFAULTS;
        }
    }
}

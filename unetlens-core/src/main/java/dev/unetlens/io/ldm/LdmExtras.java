package dev.unetlens.io.ldm;

import java.util.Optional;
import java.util.Set;

/**
 * Top-level tensors that real LDM checkpoints carry besides the three models, which diffusers never reads: the
 * training-time noise schedule that LDM's {@code DDPM.register_schedule} saves as buffers, the EMA copy of the U-Net
 * that LDM's {@code LitEma} keeps under {@code model_ema.} (diffusers' {@code convert_ldm_unet_checkpoint} reads
 * the non-EMA weights unless asked for {@code extract_ema}), and SGM's {@code DiscreteDenoiser} sigma buffer in some
 * SDXL files. The scheduler config, not these buffers, defines the schedule in diffusers and here.
 *
 * <p>Extras inside a component (the CLIP {@code position_ids} buffer, OpenCLIP's {@code logit_scale} and vision
 * tower, SD 2.x's dropped layer) are handled by that component's key map.
 */
final class LdmExtras {
    /** LDM {@code ldm/models/diffusion/ddpm.py DDPM.register_schedule} (persistent buffers). */
    private static final Set<String> SCHEDULE_BUFFERS = Set.of(
            "betas", "alphas_cumprod", "alphas_cumprod_prev", "sqrt_alphas_cumprod", "sqrt_one_minus_alphas_cumprod",
            "log_one_minus_alphas_cumprod", "sqrt_recip_alphas_cumprod", "sqrt_recipm1_alphas_cumprod",
            "posterior_variance", "posterior_log_variance_clipped", "posterior_mean_coef1", "posterior_mean_coef2");

    private LdmExtras() {
    }

    /** Why diffusers ignores a top-level key, or empty if it is not a known extra. */
    static Optional<String> reason(String key) {
        if (SCHEDULE_BUFFERS.contains(key)) {
            return Optional.of("LDM's saved noise-schedule buffer; the scheduler config defines the schedule");
        }
        if (key.startsWith("model_ema.")) {
            return Optional.of("the EMA copy of the U-Net (LDM LitEma); diffusers loads the non-EMA weights");
        }
        if (key.equals("denoiser.sigmas")) {
            return Optional.of("SGM's saved sigma schedule; the scheduler config defines the schedule");
        }
        return Optional.empty();
    }
}

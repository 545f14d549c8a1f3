package dev.unetlens.schedule;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.unetlens.Messages;
import dev.unetlens.config.ConfigException;
import dev.unetlens.config.JsonConfig;
import dev.unetlens.config.Range;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A scheduler's settings as diffusers resolves them: {@code Scheduler.from_config(scheduler_config.json, **overrides)}
 * for one scheduler class. Only the keys that class's {@code __init__} takes are read; a missing key gets that
 * class's own default (DDIM and PNDM space timesteps "leading", the others "linspace"; DDIM clips x̂₀ and sets
 * ᾱ_prev = 1 at the end unless told otherwise, ...). Keys of other classes are ignored, as diffusers ignores them.
 * A value unetlens does not implement fails with a one-line {@link ConfigException} naming the key.
 *
 * <p>Groups of settings that a class does not have hold neutral values it never reads.
 *
 * @param source          where the settings were read, for messages ({@code …/scheduler/scheduler_config.json})
 * @param kind            the scheduler class
 * @param noise           the training noise schedule β₁…β_T
 * @param prediction      what the model predicts ({@code prediction_type})
 * @param spacing         how inference timesteps are spread over [0, T) ({@code timestep_spacing})
 * @param stepsOffset     added to "leading" timesteps ({@code steps_offset})
 * @param alpha           DDIM / PNDM settings
 * @param sigma           Euler / LMS / DPM-Solver sigma-schedule settings
 * @param dpm             DPM-Solver settings
 */
public record SchedulerConfig(String source, SchedulerKind kind, NoiseSchedule noise, Prediction prediction,
                              Spacing spacing, int stepsOffset, AlphaOptions alpha, SigmaOptions sigma,
                              DpmOptions dpm) {
    /** {@code prediction_type}. */
    public enum Prediction {
        /** ε: the noise added ({@code epsilon}). */
        EPSILON,
        /** v = √ᾱ·ε − √(1−ᾱ)·x₀ ({@code v_prediction}, Salimans & Ho 2022). */
        V_PREDICTION,
        /** x₀ itself ({@code sample}; Euler also accepts {@code original_sample}). */
        SAMPLE
    }

    /** {@code timestep_spacing} (Lin et al. 2023, "Common Diffusion Noise Schedules and Sample Steps are Flawed", Table 2). */
    public enum Spacing { LEADING, LINSPACE, TRAILING }

    /** Euler's {@code interpolation_type}: σ(t) between training steps, linear in t or log-linear. */
    public enum Interpolation { LINEAR, LOG_LINEAR }

    /** Euler's {@code timestep_type}: the model's timestep input is t, or ¼·log σ ("continuous", with v-prediction). */
    public enum TimestepType { DISCRETE, CONTINUOUS }

    /** DPM-Solver's {@code final_sigmas_type}: the last σ is 0 or σ_min of the training schedule. */
    public enum FinalSigmas { ZERO, SIGMA_MIN }

    /**
     * DDIM / PNDM settings.
     *
     * @param clipSample      DDIM: clamp x̂₀ to ±{@code clipSampleRange} ({@code clip_sample})
     * @param clipSampleRange DDIM: {@code clip_sample_range} &gt; 0
     * @param setAlphaToOne   ᾱ "before" the first training step is 1 (true) or ᾱ₀ ({@code set_alpha_to_one})
     */
    public record AlphaOptions(boolean clipSample, double clipSampleRange, boolean setAlphaToOne) {
        public AlphaOptions {
            if (!(clipSampleRange > 0)) {
                throw new ConfigException("clip_sample_range must be > 0, got " + clipSampleRange);
            }
        }
    }

    /**
     * Sigma-schedule settings (Euler, Euler ancestral, LMS, DPM-Solver).
     *
     * @param karras        {@code use_karras_sigmas}: σ_i = (σ_max^{1/ρ} + i/(N−1)·(σ_min^{1/ρ} − σ_max^{1/ρ}))^ρ,
     *                      ρ = 7
     * @param interpolation Euler's {@code interpolation_type}
     * @param sigmaMin      Euler's {@code sigma_min} for the Karras ramp, NaN for the schedule's own
     * @param sigmaMax      Euler's {@code sigma_max} for the Karras ramp, NaN for the schedule's own
     * @param timestepType  Euler's {@code timestep_type}
     */
    public record SigmaOptions(boolean karras, Interpolation interpolation, double sigmaMin, double sigmaMax,
                               TimestepType timestepType) {
        static final SigmaOptions NONE = new SigmaOptions(false, Interpolation.LINEAR, Double.NaN, Double.NaN,
                TimestepType.DISCRETE);
    }

    /**
     * DPM-Solver++ settings ({@code algorithm_type} must be {@code dpmsolver++}).
     *
     * @param solverOrder      1 or 2 ({@code solver_order})
     * @param lowerOrderFinal  first order on the last step(s) when fewer than 15 steps ({@code lower_order_final})
     * @param eulerAtFinal     first order on the last step ({@code euler_at_final})
     * @param finalSigmas      {@code final_sigmas_type}
     * @param lambdaMinClipped λ below which training timesteps are cut off ({@code lambda_min_clipped}, −∞ none)
     */
    public record DpmOptions(int solverOrder, boolean lowerOrderFinal, boolean eulerAtFinal, FinalSigmas finalSigmas,
                             double lambdaMinClipped) {
        static final DpmOptions NONE = new DpmOptions(2, true, false, FinalSigmas.ZERO, Double.NEGATIVE_INFINITY);

        public DpmOptions {
            if (solverOrder < 1 || solverOrder > 2) {
                throw new ConfigException("solver_order " + solverOrder + " is not supported by unetlens (only 1 or 2)");
            }
        }
    }

    public static final Range STEPS_OFFSET = new Range("steps_offset", 0, NoiseSchedule.NUM_TRAIN_TIMESTEPS.max());
    public static final Range SOLVER_ORDER = new Range("solver_order", 1, 2);

    public SchedulerConfig {
        STEPS_OFFSET.check(stepsOffset);
    }

    /**
     * Reads {@code scheduler_config.json}; the kind is {@code forKind}, or the file's {@code _class_name} when null.
     * Python's non-standard {@code -Infinity} / {@code NaN} literals are accepted: diffusers writes
     * {@code "lambda_min_clipped": -Infinity} into every DPM-Solver config it saves.
     */
    public static SchedulerConfig read(Path schedulerConfigJson, SchedulerKind forKind) {
        return parse(JsonConfig.read(schedulerConfigJson), forKind, Map.of());
    }

    /**
     * {@code KindScheduler.from_config(json, **overrides)}: {@code overrides} (JSON-compatible values: String,
     * Number, Boolean) replace keys of {@code json} before parsing. {@code kind} null means the file's
     * {@code _class_name}.
     */
    public static SchedulerConfig parse(JsonConfig json, SchedulerKind kind, Map<String, ?> overrides) {
        JsonConfig c = withOverrides(json, overrides);
        try {
            SchedulerKind k = kind != null ? kind : SchedulerKind.fromDiffusersClass(c.optionalString("_class_name")
                    .orElseThrow(() -> c.error("_class_name", "is missing; name the scheduler")));
            return new SchedulerConfig(c.source(), k, noise(c, k), prediction(c, k), spacing(c, k),
                    c.integer(STEPS_OFFSET, 0), alphaOptions(c, k), sigmaOptions(c, k), dpmOptions(c, k));
        } catch (ConfigException e) {
            throw e.in(c.source());
        }
    }

    /** The same settings with {@code overrides} applied (for example {@code timestep_spacing=trailing}). */
    public static JsonConfig withOverrides(JsonConfig json, Map<String, ?> overrides) {
        if (overrides.isEmpty()) {
            return json;
        }
        ObjectNode n = json.node().deepCopy();
        overrides.forEach((key, v) -> {
            switch (v) {
                case null -> n.putNull(key);
                case String s -> n.put(key, s);
                case Boolean b -> n.put(key, b);
                case Integer i -> n.put(key, i);
                case Long l -> n.put(key, l);
                case Number num -> n.put(key, num.doubleValue());
                default -> throw new IllegalArgumentException("override " + key + " must be a string, number or boolean");
            }
        });
        return new JsonConfig(json.source(), n);
    }

    private static NoiseSchedule noise(JsonConfig c, SchedulerKind k) {
        boolean hasRescale = k != SchedulerKind.PNDM && k != SchedulerKind.LMS;
        String schedule = c.choice("beta_schedule", "linear", Set.of("linear", "scaled_linear", "squaredcos_cap_v2"));
        return new NoiseSchedule(c.integer(NoiseSchedule.NUM_TRAIN_TIMESTEPS, 1000), c.number("beta_start", 0.0001),
                c.number("beta_end", 0.02), NoiseSchedule.BetaSchedule.valueOf(schedule.toUpperCase(Locale.ROOT)),
                trainedBetas(c), hasRescale && c.bool("rescale_betas_zero_snr", false));
    }

    private static double[] trainedBetas(JsonConfig c) {
        JsonNode n = c.node().get("trained_betas");
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isArray() || n.isEmpty() || n.size() > NoiseSchedule.NUM_TRAIN_TIMESTEPS.max()) {
            throw c.error("trained_betas", "must be a list of 1 to " + NoiseSchedule.NUM_TRAIN_TIMESTEPS.max()
                    + " numbers");
        }
        double[] out = new double[n.size()];
        for (int i = 0; i < out.length; i++) {
            if (!n.get(i).isNumber()) {
                throw c.error("trained_betas", "must be a list of numbers, entry " + i + " is "
                        + Messages.value(n.get(i)));
            }
            out[i] = n.get(i).asDouble();
        }
        return out;
    }

    private static Prediction prediction(JsonConfig c, SchedulerKind k) {
        Set<String> allowed = switch (k) {
            case PNDM -> Set.of("epsilon", "v_prediction");
            case EULER_ANCESTRAL -> Set.of("epsilon", "v_prediction");
            case EULER -> Set.of("epsilon", "v_prediction", "sample", "original_sample");
            default -> Set.of("epsilon", "v_prediction", "sample");
        };
        return switch (c.choice("prediction_type", "epsilon", allowed)) {
            case "epsilon" -> Prediction.EPSILON;
            case "v_prediction" -> Prediction.V_PREDICTION;
            default -> Prediction.SAMPLE;
        };
    }

    private static Spacing spacing(JsonConfig c, SchedulerKind k) {
        String dflt = k == SchedulerKind.DDIM || k == SchedulerKind.PNDM ? "leading" : "linspace";
        return Spacing.valueOf(c.choice("timestep_spacing", dflt, Set.of("leading", "linspace", "trailing"))
                .toUpperCase(Locale.ROOT));
    }

    private static AlphaOptions alphaOptions(JsonConfig c, SchedulerKind k) {
        return switch (k) {
            case DDIM -> {
                requireFalse(c, "thresholding");
                yield new AlphaOptions(c.bool("clip_sample", true), c.number("clip_sample_range", 1.0),
                        c.bool("set_alpha_to_one", true));
            }
            case PNDM -> {
                if (!c.bool("skip_prk_steps", false)) {
                    throw c.error("skip_prk_steps", "= false (Runge-Kutta warm-up steps) is not supported by unetlens;"
                            + " set skip_prk_steps to true (PLMS), as Stable Diffusion's configs do");
                }
                yield new AlphaOptions(false, 1.0, c.bool("set_alpha_to_one", false));
            }
            default -> new AlphaOptions(false, 1.0, false);
        };
    }

    private static SigmaOptions sigmaOptions(JsonConfig c, SchedulerKind k) {
        return switch (k) {
            case EULER -> new SigmaOptions(c.bool("use_karras_sigmas", false),
                    Interpolation.valueOf(c.choice("interpolation_type", "linear", Set.of("linear", "log_linear"))
                            .toUpperCase(Locale.ROOT)),
                    c.number("sigma_min", Double.NaN), c.number("sigma_max", Double.NaN),
                    TimestepType.valueOf(c.choice("timestep_type", "discrete", Set.of("discrete", "continuous"))
                            .toUpperCase(Locale.ROOT)));
            case LMS, DPMPP_2M -> new SigmaOptions(c.bool("use_karras_sigmas", false), Interpolation.LINEAR,
                    Double.NaN, Double.NaN, TimestepType.DISCRETE);
            default -> SigmaOptions.NONE;
        };
    }

    private static DpmOptions dpmOptions(JsonConfig c, SchedulerKind k) {
        if (k != SchedulerKind.DPMPP_2M) {
            return DpmOptions.NONE;
        }
        c.choice("algorithm_type", "dpmsolver++", Set.of("dpmsolver++"));
        c.choice("solver_type", "midpoint", Set.of("midpoint"));
        requireFalse(c, "thresholding");
        requireFalse(c, "use_lu_lambdas");
        if (c.has("variance_type")) {
            throw c.error("variance_type", "= " + Messages.value(c.node().get("variance_type"))
                    + " is not supported by unetlens (only null)");
        }
        FinalSigmas last = FinalSigmas.valueOf(c.choice("final_sigmas_type", "zero", Set.of("zero", "sigma_min"))
                .toUpperCase(Locale.ROOT));
        return new DpmOptions(c.integer(SOLVER_ORDER, 2), c.bool("lower_order_final", true),
                c.bool("euler_at_final", false), last, lambdaMinClipped(c));
    }

    /** {@code lambda_min_clipped}: a number, or ±inf written as a string or as JSON's non-standard ±Infinity. */
    private static double lambdaMinClipped(JsonConfig c) {
        JsonNode n = c.node().get("lambda_min_clipped");
        if (n == null || n.isNull()) {
            return Double.NEGATIVE_INFINITY;
        }
        if (n.isNumber()) {
            return n.asDouble();
        }
        String s = n.asText().strip().toLowerCase(Locale.ROOT);
        return switch (s) {
            case "-inf", "-infinity" -> Double.NEGATIVE_INFINITY;
            case "inf", "infinity", "+inf" -> Double.POSITIVE_INFINITY;
            default -> throw c.error("lambda_min_clipped", "must be a number, got " + Messages.value(n));
        };
    }

    private static void requireFalse(JsonConfig c, String key) {
        if (c.bool(key, false)) {
            throw c.error(key, "= true is not supported by unetlens (only false)");
        }
    }
}

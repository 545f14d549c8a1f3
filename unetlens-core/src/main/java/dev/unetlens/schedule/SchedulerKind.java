package dev.unetlens.schedule;

import dev.unetlens.config.ConfigException;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The samplers unetlens implements: the one registry behind the CLI's {@code --scheduler}, the web dropdown and
 * the run manifest. Each names its diffusers class, whose {@code scheduler_config.json} keys and defaults it reads.
 */
public enum SchedulerKind {
    DDIM("ddim", "DDIMScheduler", "DDIM (Song et al. 2020), eta = 0 deterministic"),
    PNDM("pndm", "PNDMScheduler", "PLMS, the pseudo linear multistep part of PNDM (Liu et al. 2022)"),
    EULER("euler", "EulerDiscreteScheduler", "Euler, Karras et al. 2022 Algorithm 2"),
    EULER_ANCESTRAL("euler-a", "EulerAncestralDiscreteScheduler", "Euler ancestral (k-diffusion sample_euler_ancestral)"),
    LMS("lms", "LMSDiscreteScheduler", "linear multistep, order 4 (k-diffusion sample_lms)"),
    DPMPP_2M("dpmpp-2m", "DPMSolverMultistepScheduler", "DPM-Solver++(2M) (Lu et al. 2022)");

    private final String cliName;
    private final String diffusersClass;
    private final String description;

    SchedulerKind(String cliName, String diffusersClass, String description) {
        this.cliName = cliName;
        this.diffusersClass = diffusersClass;
        this.description = description;
    }

    /** The name users type: {@code ddim}, {@code euler-a}, ... */
    public String cliName() {
        return cliName;
    }

    /** The diffusers class ({@code _class_name} in {@code scheduler_config.json}). */
    public String diffusersClass() {
        return diffusersClass;
    }

    public String description() {
        return description;
    }

    /** Whether this kind's config has {@code use_karras_sigmas} (Karras et al.'s σ ramp): Euler, LMS and DPM++ 2M. */
    public boolean takesKarrasSigmas() {
        return this == EULER || this == LMS || this == DPMPP_2M;
    }

    /** {@code euler, lms, dpmpp-2m}: the kinds that take Karras sigmas. */
    public static String karrasNames() {
        return Arrays.stream(values()).filter(SchedulerKind::takesKarrasSigmas).map(SchedulerKind::cliName)
                .collect(Collectors.joining(", "));
    }

    /** A fresh scheduler of this kind (no timesteps set yet). */
    public Scheduler create(SchedulerConfig config, StepOptions options) {
        if (config.kind() != this) {
            throw new IllegalArgumentException("config is for " + config.kind() + ", not " + this);
        }
        return switch (this) {
            case DDIM -> new DdimScheduler(config, options);
            case PNDM -> new PndmScheduler(config);
            case EULER -> new EulerScheduler(config, options);
            case EULER_ANCESTRAL -> new EulerAncestralScheduler(config);
            case LMS -> new LmsScheduler(config);
            case DPMPP_2M -> new DpmSolverMultistepScheduler(config);
        };
    }

    /** The kind for a CLI name, case-insensitive; a one-line error lists the valid names. */
    public static SchedulerKind fromCliName(String name) {
        String n = name.strip().toLowerCase(Locale.ROOT);
        return Arrays.stream(values()).filter(k -> k.cliName.equals(n)).findFirst().orElseThrow(() ->
                new ConfigException("--scheduler must be one of " + cliNames() + ", got "
                        + dev.unetlens.Messages.quote(name)));
    }

    /** The kind for a diffusers class name ({@code _class_name}). */
    public static SchedulerKind fromDiffusersClass(String className) {
        return Arrays.stream(values()).filter(k -> k.diffusersClass.equals(className)).findFirst().orElseThrow(() ->
                new ConfigException("scheduler class " + dev.unetlens.Messages.quote(className)
                        + " is not supported by unetlens (supported: "
                        + Arrays.stream(values()).map(SchedulerKind::diffusersClass).collect(Collectors.joining(", "))
                        + ")"));
    }

    /** {@code ddim, pndm, euler, euler-a, lms, dpmpp-2m}. */
    public static String cliNames() {
        return Arrays.stream(values()).map(SchedulerKind::cliName).collect(Collectors.joining(", "));
    }

    @Override
    public String toString() {
        return cliName;
    }
}

package dev.unetlens.schedule;

import dev.unetlens.config.ConfigException;

/**
 * The keyword arguments diffusers pipelines pass to {@code scheduler.step(...)} that change its result (not part of
 * {@code scheduler_config.json}). Each scheduler reads only its own; the others are ignored.
 *
 * @param eta    DDIM: weight of the fresh noise, η ∈ [0, 1] (0 deterministic DDIM, 1 DDPM-like); diffusers' {@code eta}
 * @param sChurn Euler: stochasticity γ budget {@code s_churn} ≥ 0 (0: deterministic)
 * @param sTmin  Euler: churn only where σ ≥ {@code s_tmin}
 * @param sTmax  Euler: churn only where σ ≤ {@code s_tmax}
 * @param sNoise Euler: scale of the churn noise {@code s_noise}
 */
public record StepOptions(double eta, double sChurn, double sTmin, double sTmax, double sNoise) {
    /** diffusers' defaults: eta 0, s_churn 0, s_tmin 0, s_tmax ∞, s_noise 1. */
    public static final StepOptions DEFAULT = new StepOptions(0.0, 0.0, 0.0, Double.POSITIVE_INFINITY, 1.0);

    public StepOptions {
        if (!(eta >= 0)) {
            throw new ConfigException("eta must be >= 0, got " + eta);
        }
        if (!(sChurn >= 0)) {
            throw new ConfigException("s_churn must be >= 0, got " + sChurn);
        }
        if (Double.isNaN(sTmin) || Double.isNaN(sTmax) || Double.isNaN(sNoise)) {
            throw new ConfigException("s_tmin, s_tmax and s_noise must be numbers");
        }
    }

    public StepOptions withEta(double newEta) {
        return new StepOptions(newEta, sChurn, sTmin, sTmax, sNoise);
    }

    public StepOptions withChurn(double churn, double tmin, double tmax, double noise) {
        return new StepOptions(eta, churn, tmin, tmax, noise);
    }
}

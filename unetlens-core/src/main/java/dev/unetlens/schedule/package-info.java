/**
 * The diffusers noise schedulers, reimplemented to match diffusers 0.27.2 numerically: DDIM, PNDM (PLMS), Euler,
 * Euler ancestral, LMS and DPM-Solver++(2M), with the {@code scheduler_config.json} settings that change results.
 *
 * <ul>
 *   <li>{@link dev.unetlens.schedule.SchedulerKind}: the registry (CLI names, diffusers class names).</li>
 *   <li>{@link dev.unetlens.schedule.SchedulerConfig}: a class's settings with that class's defaults.</li>
 *   <li>{@link dev.unetlens.schedule.NoiseSchedule}: β, ᾱ, and DDPM's {@code add_noise} / {@code get_velocity}.</li>
 *   <li>{@link dev.unetlens.schedule.Scheduler}: the stateful sampler interface; one class per algorithm.</li>
 * </ul>
 *
 * <p>Shapes: samples, model outputs and noise are [B, C, H, W] latents (B batch, C latent channels, H and W latent
 * height and width); the schedulers work element-wise and accept any shape with the batch first.
 *
 * <p>Notation in the step methods: t a training timestep in [0, T), N the number of inference steps, ᾱ_t the
 * cumulative product of (1 − β), σ_t = √((1 − ᾱ_t)/ᾱ_t) the VE noise level, x̂₀ the model's estimate of the clean
 * sample, ε̂ its estimate of the noise.
 */
package dev.unetlens.schedule;

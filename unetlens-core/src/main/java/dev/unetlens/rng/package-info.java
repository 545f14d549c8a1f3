/**
 * torch's CPU random number generator, reproduced bit for bit in plain Java, so that a seed gives the same
 * latents, VAE posterior samples and scheduler noise as {@code torch.manual_seed(seed)} /
 * {@code torch.Generator().manual_seed(seed)} in diffusers.
 *
 * <ul>
 *   <li>{@link dev.unetlens.rng.Mt19937}: the engine, {@code at::mt19937}.</li>
 *   <li>{@link dev.unetlens.rng.TorchGenerator}: {@code at::CPUGeneratorImpl} with the float32
 *       {@code torch.randn} / {@code torch.rand} kernels on top of it.</li>
 *   <li>{@link dev.unetlens.rng.AvxMathFun}: the AVX2 {@code log} and {@code sincos} approximations that
 *       torch's vectorised normal sampler uses, lane by lane.</li>
 *   <li>{@link dev.unetlens.rng.NoiseSource}: what a scheduler step draws its noise from.</li>
 * </ul>
 *
 * <p>Reference: torch 1.13.1 (the golden fixtures) and libtorch 2.7.1 (the DJL engine) produce the same bits for
 * {@code randn} and {@code rand} on x86-64 CPUs with AVX2; see {@link dev.unetlens.rng.TorchGenerator}.
 */
package dev.unetlens.rng;

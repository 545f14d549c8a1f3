/**
 * diffusers v0.27.2 {@code UNet2DConditionModel} for SD 1.x, 2.x and XL, one class per diffusers block with the
 * same class and field names, on DJL NDArrays in float32.
 *
 * <p>Shape letters used in every comment and Javadoc of this package:
 * <pre>
 *   B   batch rows (with classifier-free guidance: row 0 … B/2−1 unconditional, the rest conditional)
 *   C   channels at a block's level (Cin / Cout where they differ, C0 = block_out_channels[0])
 *   H W latent height and width at a block's level (the input's, halved (rounded up) once per level)
 *   T   query tokens of a transformer, T = H·W, row-major positions
 *   S   key tokens: T for self-attention (attn1), the text tokens (77) for cross-attention (attn2)
 *   Dc  width of the text states (cross_attention_dim)
 *   N   attention heads (the config's attention_head_dim, see golden README §1); D = C / N head dim; I = N·D
 *   Ct  width of the time embedding the resnets receive (time_embedding_dim, 4·C0 by default)
 *   K   micro-conditioning values per row (SDXL: 6)
 * </pre>
 *
 * <p>Hook points (see {@link dev.unetlens.model.Module}): every module's output by its diffusers path, leaves
 * included ({@code down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_q}); {@code …attnN:probs} (B, N, T, S);
 * {@code …attn2:context} (B, S, Dc), the text states one cross-attention reads;
 * the down blocks' skip tensors {@code down_blocks.i.res_samples.k} and {@code down_blocks.i.hidden_states};
 * {@code :emb}, the time embedding every resnet receives. Parameter-free activation modules are points where
 * diffusers has one module per use ({@code conv_act}, {@code time_embedding.act}); the resnets' shared
 * {@code nonlinearity} (applied three times) and dropout modules are not points.
 */
package dev.unetlens.model.unet;

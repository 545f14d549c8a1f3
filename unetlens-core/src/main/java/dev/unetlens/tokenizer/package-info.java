/**
 * The CLIP BPE tokenizer of Stable Diffusion 1.x / 2.x / XL, token for token transformers' slow
 * {@code CLIPTokenizer} without ftfy (golden fixtures README §1, §2, §11).
 *
 * <p>Entry point: {@link dev.unetlens.tokenizer.ClipTokenizer}, loaded from a diffusers {@code tokenizer/} folder
 * ({@link dev.unetlens.tokenizer.ClipVocab} + {@link dev.unetlens.tokenizer.TokenizerConfig}) or built from the
 * bundled OpenAI merge file. A prompt flows: added-token split → {@code BasicTokenizer} clean-up → pre-token regex
 * → byte-level characters → BPE → ids → {@link dev.unetlens.tokenizer.TokenizedPrompt}.
 *
 * <p>Shape letters: T = {@code model_max_length} positions (77), bos and eos included.
 */
package dev.unetlens.tokenizer;

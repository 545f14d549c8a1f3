/**
 * Pictures of the text side: a text encoder's states per token ({@link dev.unetlens.viz.text.TokenStates}, [L, T, D]:
 * L states — the input embeddings, then each layer's output — of T tokens of width D), drawn as the norm of each
 * token's state per layer ({@link dev.unetlens.viz.text.TokenNorms}) and the cosine similarity between the tokens at
 * one layer ({@link dev.unetlens.viz.text.TokenSimilarity}); both label the tokens with their text.
 */
package dev.unetlens.viz.text;

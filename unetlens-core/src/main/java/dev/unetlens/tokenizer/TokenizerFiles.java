package dev.unetlens.tokenizer;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The files of a diffusers {@code tokenizer/} folder for OpenAI's CLIP tokenizer with a given pad token (the
 * bundled vocabulary: {@code <|endoftext|>} for SD 1.x and SDXL's first encoder, {@code !} for the OpenCLIP
 * encoders), as {@code CLIPTokenizer.save_pretrained} lays them out: {@code vocab.json}, {@code merges.txt},
 * {@code special_tokens_map.json}, {@code tokenizer_config.json} with 77 positions.
 */
public final class TokenizerFiles {
    private static final ObjectMapper JSON = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();

    private TokenizerFiles() {
    }

    /** File name → bytes. */
    public static Map<String, byte[]> clip(String padToken) {
        try {
            Map<String, byte[]> files = new LinkedHashMap<>();
            ClipVocab vocab = ClipVocab.bundled();
            Map<String, Integer> byId = new LinkedHashMap<>();
            vocab.encoder().entrySet().stream().sorted(Map.Entry.comparingByValue())
                    .forEach(e -> byId.put(e.getKey(), e.getValue()));
            files.put("vocab.json", new ObjectMapper().writeValueAsBytes(byId));
            StringBuilder merges = new StringBuilder("#version: 0.2\n");
            for (ClipVocab.Merge mg : vocab.merges()) {
                merges.append(mg.first()).append(' ').append(mg.second()).append('\n');
            }
            files.put("merges.txt", merges.toString().getBytes(StandardCharsets.UTF_8));
            Map<String, Object> special = new LinkedHashMap<>();
            special.put("bos_token", ClipVocab.BOS);
            special.put("eos_token", ClipVocab.EOS);
            special.put("unk_token", ClipVocab.EOS);
            special.put("pad_token", padToken);
            files.put("special_tokens_map.json", JSON.writeValueAsBytes(special));
            Map<String, Object> config = new LinkedHashMap<>(special);
            config.put("model_max_length", TokenizerConfig.CLIP_MAX_LENGTH);
            config.put("do_lower_case", true);
            config.put("tokenizer_class", "CLIPTokenizer");
            files.put("tokenizer_config.json", JSON.writeValueAsBytes(config));
            return files;
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}

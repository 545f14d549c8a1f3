package dev.unetlens.tokenizer;

import dev.unetlens.Messages;
import dev.unetlens.config.ConfigException;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The CLIP byte-level BPE tokenizer of Stable Diffusion, token for token the slow transformers
 * {@code CLIPTokenizer} on its ftfy-free path (what diffusers pipelines call as
 * {@code tokenizer(prompt, padding="max_length", max_length=tokenizer.model_max_length, truncation=True)}).
 *
 * <p>{@link #bpeTokens} is {@code CLIPTokenizer.tokenize}:
 * <ol>
 *   <li>cut the raw prompt at its added tokens ({@link AddedTokenSplitter}; the specials and the pad token);</li>
 *   <li>each other piece: {@link BasicTokenizer#normalize} (clean-up, CJK spacing, NFC, lower-case words);</li>
 *   <li>pre-tokens from {@link #PRE_TOKEN} (the reference's {@code self.pat});</li>
 *   <li>each pre-token's UTF-8 bytes as {@link ByteLevel} characters, split by {@link Bpe}.</li>
 * </ol>
 * Ids come from the added tokens, then {@code vocab.json}; a token in neither gets the unk id (eos). Immutable and
 * thread-safe after construction (the BPE cache is concurrent).
 */
public final class ClipTokenizer {
    /**
     * {@code CLIPTokenizer.pat} ({@code regex} module, {@code re.IGNORECASE}):
     * {@code <\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+}.
     * {@code \p{L}} / {@code \p{N}} are the general categories L* / N* in both engines, and {@code \s} of
     * {@code regex} is the White_Space property. Case-insensitive literals match the same characters in both (only
     * {@code ſ} besides S matches {@code s}). One difference is written out: under IGNORECASE {@code regex} treats
     * U+0345 COMBINING GREEK YPOGEGRAMMENI as a case variant of ι, so neither {@code [\p{L}]} nor its complement
     * matches it and {@code findall} skips it like a space; Java does not case-fold categories, so it is excluded
     * from the last class.
     */
    static final Pattern PRE_TOKEN = Pattern.compile(
            "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|\\p{L}+|\\p{N}"
                    + "|[^\\p{IsWhite_Space}\\p{L}\\p{N}\\x{345}]+",
            Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE);

    private final Map<String, Integer> encoder;
    private final String[] decoder;
    private final Bpe bpe;
    private final AddedTokenSplitter added;
    private final int bosId;
    private final int eosId;
    private final int unkId;
    private final int padId;
    private final int maxLength;
    private final String source;

    private ClipTokenizer(ClipVocab vocab, TokenizerConfig config, String source) {
        this.source = source;
        this.encoder = vocab.encoder();
        this.decoder = new String[encoder.values().stream().mapToInt(Integer::intValue).max().orElse(-1) + 1];
        encoder.forEach((token, id) -> decoder[id] = token);
        this.bpe = new Bpe(vocab.merges());
        this.added = addedTokens(config, encoder, source);
        this.bosId = added.id(config.bos().content());
        this.eosId = added.id(config.eos().content());
        this.unkId = added.id(config.unk().content());
        this.padId = added.id(config.pad().content());
        this.maxLength = config.modelMaxLength();
    }

    /**
     * As {@code PreTrainedTokenizer.__init__}: the saved added tokens, then each special token not among them with
     * its vocabulary id (bos, eos, unk, pad in {@code SPECIAL_TOKENS_ATTRIBUTES} order; the first of equal contents
     * wins).
     */
    private static AddedTokenSplitter addedTokens(TokenizerConfig config, Map<String, Integer> encoder, String source) {
        Map<String, AddedToken> tokens = new LinkedHashMap<>();
        Map<String, Integer> ids = new LinkedHashMap<>();
        config.addedTokens().forEach((id, t) -> {
            tokens.put(t.content(), t);
            ids.put(t.content(), id);
        });
        String[] names = {"bos_token", "eos_token", "unk_token", "pad_token"};
        List<AddedToken> specials = List.of(config.bos(), config.eos(), config.unk(), config.pad());
        for (int i = 0; i < specials.size(); i++) {
            AddedToken s = specials.get(i);
            if (ids.containsKey(s.content())) {
                continue;
            }
            Integer id = encoder.get(s.content());
            if (id == null) {
                throw ConfigException.at(source, names[i] + " " + Messages.quote(s.content())
                        + " is neither in vocab.json nor an added token");
            }
            tokens.put(s.content(), s);
            ids.put(s.content(), id);
        }
        return new AddedTokenSplitter(tokens, ids);
    }

    /** The tokenizer of a diffusers {@code tokenizer/} (or {@code tokenizer_2/}) folder. */
    public static ClipTokenizer load(Path folder) {
        return new ClipTokenizer(ClipVocab.read(folder), TokenizerConfig.read(folder), folder.toString());
    }

    /** A tokenizer from a vocabulary and a configuration built in code. */
    public static ClipTokenizer of(ClipVocab vocab, TokenizerConfig config) {
        return new ClipTokenizer(vocab, config, "tokenizer config");
    }

    /**
     * OpenAI CLIP's tokenizer from the bundled merge file, with 77 positions and the given pad token:
     * {@code "<|endoftext|>"} as SD 1.x / SDXL's first tokenizer, {@code "!"} as SD 2.x / SDXL's second.
     */
    public static ClipTokenizer bundled(String padToken) {
        return new ClipTokenizer(ClipVocab.bundled(), TokenizerConfig.clip(padToken), "bundled CLIP vocabulary");
    }

    /** {@code CLIPTokenizer.tokenize(text)}: the BPE tokens, added tokens as their text, without bos / eos. */
    public List<String> bpeTokens(String text) {
        List<String> out = new ArrayList<>();
        for (AddedTokenSplitter.Piece p : added.split(text)) {
            if (p.added()) {
                out.add(p.text());
            } else {
                bpe(p.text(), out);
            }
        }
        return out;
    }

    private void bpe(String text, List<String> out) {
        Matcher m = PRE_TOKEN.matcher(BasicTokenizer.normalize(text));
        while (m.find()) {
            out.addAll(bpe.encode(ByteLevel.encode(m.group())));
        }
    }

    /** bos, the ids of {@link #bpeTokens}, eos: the ids before truncation and padding. */
    public long[] idsUntruncated(String text) {
        List<String> tokens = bpeTokens(text);
        long[] ids = new long[tokens.size() + 2];
        ids[0] = bosId;
        for (int i = 0; i < tokens.size(); i++) {
            ids[i + 1] = id(tokens.get(i));
        }
        ids[ids.length - 1] = eosId;
        return ids;
    }

    /** transformers {@code _convert_token_to_id_with_added_voc}. */
    private int id(String token) {
        Integer id = added.id(token);
        if (id == null) {
            id = encoder.get(token);
        }
        return id == null ? unkId : id;
    }

    /**
     * {@code tokenizer(text, padding="max_length", max_length=model_max_length, truncation=True)}: bos + at most
     * {@code model_max_length - 2} content ids + eos, padded with the pad id.
     */
    public TokenizedPrompt encode(String text) {
        long[] all = idsUntruncated(text);
        int length = Math.min(all.length, maxLength);
        long[] ids = new long[maxLength];
        long[] mask = new long[maxLength];
        Arrays.fill(ids, padId);
        System.arraycopy(all, 0, ids, 0, length - 1);
        ids[length - 1] = eosId;
        Arrays.fill(mask, 0, length, 1);
        List<String> texts = new ArrayList<>(maxLength);
        for (int i = 0; i < maxLength; i++) {
            texts.add(i < length ? tokenText(ids[i]) : TokenizedPrompt.PADDING);
        }
        return new TokenizedPrompt(ids, mask, length, texts);
    }

    /** {@link #encode(String)} of each prompt, in order. */
    public List<TokenizedPrompt> encode(List<String> prompts) {
        return prompts.stream().map(this::encode).toList();
    }

    /**
     * A readable label of one token: its bytes as UTF-8 without the {@code </w>} word-end mark; a byte that does
     * not complete a character inside this token (BPE splits many non-Latin characters) shows as {@code <0xE6>}.
     * Specials read {@code <|startoftext|>} / {@code <|endoftext|>}.
     */
    public String tokenText(long id) {
        String token = token(id);
        String word = token.endsWith(Bpe.WORD_END) ? token.substring(0, token.length() - Bpe.WORD_END.length()) : token;
        return ByteLevel.isEncoded(word) ? ByteLevel.readable(ByteLevel.decode(word)) : word;
    }

    /**
     * The text of {@code ids}, as transformers {@code decode(ids, skip_special_tokens=True,
     * clean_up_tokenization_spaces=False)} on a sequence: ids after the last eos are padding and dropped, bos and
     * eos are dropped, the rest joined, read as UTF-8 (malformed bytes → U+FFFD) with each {@code </w>} becoming a
     * space, then stripped. Unlike that call it keeps the pad token's text where it is content ({@code !}).
     */
    public String decode(long[] ids) {
        int end = ids.length;
        for (int i = ids.length - 1; i >= 0; i--) {
            if (ids[i] == eosId) {
                end = i;
                break;
            }
        }
        StringBuilder text = new StringBuilder();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (int i = 0; i < end; i++) {
            if (ids[i] == bosId || ids[i] == eosId) {
                continue;
            }
            String token = token(ids[i]);
            if (ByteLevel.isEncoded(token)) {
                bytes.writeBytes(ByteLevel.decode(token));
            } else {   // an added token outside the byte-level alphabet: its own text, as transformers' sub_texts
                text.append(bytes.toString(StandardCharsets.UTF_8)).append(token);
                bytes.reset();
            }
        }
        text.append(bytes.toString(StandardCharsets.UTF_8));
        return BasicTokenizer.lstrip(BasicTokenizer.rstrip(text.toString().replace(Bpe.WORD_END, " ")));
    }

    private String token(long id) {
        if (id >= 0 && id < decoder.length && decoder[(int) id] != null) {
            return decoder[(int) id];
        }
        String content = id == (int) id ? added.content((int) id) : null;
        if (content == null) {
            throw new IllegalArgumentException("token id " + id + " is not in the vocabulary");
        }
        return content;
    }

    public long bosId() {
        return bosId;
    }

    public long eosId() {
        return eosId;
    }

    public long padId() {
        return padId;
    }

    /** Positions of an encoded prompt, bos and eos included (77 for CLIP). */
    public int modelMaxLength() {
        return maxLength;
    }

    /** Where the tokenizer was read from (its folder), for messages. */
    public String source() {
        return source;
    }

    /** The largest id this tokenizer can give (a vocabulary entry or an added token): its encoder must embed it. */
    public int maxId() {
        return Math.max(decoder.length - 1, added.maxId());
    }

    /** Entries of {@code vocab.json} (49408 for CLIP). */
    public int vocabSize() {
        return encoder.size();
    }
}

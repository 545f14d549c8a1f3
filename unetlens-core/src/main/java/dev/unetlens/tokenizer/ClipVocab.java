package dev.unetlens.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import dev.unetlens.Messages;
import dev.unetlens.config.ConfigException;
import dev.unetlens.config.JsonConfig;
import dev.unetlens.io.InputFiles;

import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;

/**
 * The byte-level BPE model of a CLIP tokenizer: the vocabulary (token → id) and the ranked merge list.
 *
 * <p>Both are read exactly as transformers' slow {@code CLIPTokenizer.__init__} reads {@code vocab.json} and
 * {@code merges.txt}: {@code merges_handle.read().strip().split("\n")[1 : 49152 - 256 - 2 + 1]}, i.e. the first
 * (header) line is skipped and at most {@value #MAX_MERGES} merges are kept, each line split on whitespace into a
 * pair; the list position is the merge's rank. {@link #fromOpenAiBpe} rebuilds the same two tables from OpenAI's
 * original {@code bpe_simple_vocab_16e6.txt.gz} as OpenAI CLIP's {@code SimpleTokenizer} does.
 *
 * @param encoder token (spelled in {@link ByteLevel} characters, {@code </w>} marking a word end) → id
 * @param merges  merge rules, best (rank 0) first
 */
public record ClipVocab(Map<String, Integer> encoder, List<Merge> merges) {
    /** {@code 49152 - 256 - 2}: the merges a CLIP vocabulary of 49408 = 512 + merges + 2 specials holds. */
    public static final int MAX_MERGES = 49152 - 256 - 2;
    static final String BOS = "<|startoftext|>";
    static final String EOS = "<|endoftext|>";
    private static final String BUNDLED = "bpe_simple_vocab_16e6.txt.gz";

    /** One merge rule: the adjacent symbols {@code first second} become {@code first + second}. */
    public record Merge(String first, String second) {
    }

    public ClipVocab {
        encoder = Map.copyOf(encoder);
        merges = List.copyOf(merges);
    }

    /** {@code vocab.json} and {@code merges.txt} of a diffusers / transformers {@code tokenizer/} folder. */
    public static ClipVocab read(Path folder) {
        Path vocabFile = folder.resolve("vocab.json");
        Path mergesFile = folder.resolve("merges.txt");
        Map<String, Integer> encoder = new HashMap<>();
        JsonNode vocab = JsonConfig.readTree(vocabFile);
        if (!vocab.isObject()) {
            throw ConfigException.at(vocabFile.toString(), "not a JSON object of token → id");
        }
        for (var e : vocab.properties()) {
            JsonNode id = e.getValue();
            boolean ok = id.isIntegralNumber() && id.canConvertToInt() && TokenizerConfig.TOKEN_ID.contains(id.intValue());
            if (!ok) {
                throw ConfigException.at(vocabFile.toString(), "id of " + Messages.quote(e.getKey())
                        + " must be an integer in " + TokenizerConfig.TOKEN_ID + ", got " + Messages.value(id));
            }
            encoder.put(e.getKey(), id.intValue());
        }
        return new ClipVocab(encoder, parseMerges(InputFiles.readText(mergesFile).strip(), mergesFile.toString()));
    }

    /**
     * The vocabulary and merges rebuilt from OpenAI's merge file, as CLIP's {@code SimpleTokenizer}: merges = lines
     * {@code [1 : 49152-256-2+1]}; vocab = the 256 {@link ByteLevel} characters, the same 256 with {@code </w>},
     * each merge's concatenation in rank order, then {@code <|startoftext|>} and {@code <|endoftext|>}.
     */
    public static ClipVocab fromOpenAiBpe(InputStream gzipped, String source) {
        String text;
        try (Reader in = new InputStreamReader(new GZIPInputStream(gzipped), StandardCharsets.UTF_8)) {
            text = firstLines(in, MAX_MERGES + 1);          // 525 kB of the 3.2 MB file: the rest is never read
        } catch (IOException e) {
            throw new ConfigException(source + ": cannot read gzip (" + e.getMessage() + ")", e);
        }
        List<Merge> merges = parseMerges(text, source);
        List<String> tokens = new ArrayList<>(2 * 256 + merges.size() + 2);
        ByteLevel.ALPHABET.chars().forEach(c -> tokens.add(String.valueOf((char) c)));
        ByteLevel.ALPHABET.chars().forEach(c -> tokens.add((char) c + "</w>"));
        merges.forEach(m -> tokens.add(m.first() + m.second()));
        tokens.add(BOS);
        tokens.add(EOS);
        Map<String, Integer> encoder = new HashMap<>();
        for (int i = 0; i < tokens.size(); i++) {
            encoder.put(tokens.get(i), i);
        }
        return new ClipVocab(encoder, merges);
    }

    /** The copy of OpenAI's {@code bpe_simple_vocab_16e6.txt.gz} bundled with unetlens (MIT, see LICENSE-CLIP.txt). */
    public static ClipVocab bundled() {
        return Bundled.VOCAB;
    }

    private static final class Bundled {
        static final ClipVocab VOCAB = load();

        private static ClipVocab load() {
            try (InputStream in = ClipVocab.class.getResourceAsStream(BUNDLED)) {
                if (in == null) {
                    throw new IllegalStateException("resource dev/unetlens/tokenizer/" + BUNDLED + " is missing");
                }
                return fromOpenAiBpe(in, BUNDLED);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** The text up to (not including) the {@code lines}-th {@code '\n'}, or all of it when it has fewer. */
    private static String firstLines(Reader in, int lines) throws IOException {
        StringBuilder sb = new StringBuilder(1 << 19);
        char[] buf = new char[1 << 13];
        int seen = 0;
        for (int n; (n = in.read(buf)) > 0; ) {
            for (int i = 0; i < n; i++) {
                if (buf[i] == '\n' && ++seen == lines) {
                    return sb.append(buf, 0, i).toString();
                }
            }
            sb.append(buf, 0, n);
        }
        return sb.toString();
    }

    /** Lines {@code [1 : MAX_MERGES + 1]} of {@code text.split("\n")}, each {@code line.split()} into a pair. */
    private static List<Merge> parseMerges(String text, String source) {
        int end = text.indexOf('\n');
        String header = end < 0 ? text : text.substring(0, end);
        if (!header.contains("#version")) {
            throw ConfigException.at(source, "first line must be the '#version' header, got " + Messages.quote(header));
        }
        List<Merge> merges = new ArrayList<>(MAX_MERGES);
        while (end >= 0 && merges.size() < MAX_MERGES) {
            int start = end + 1;
            end = text.indexOf('\n', start);
            String line = end < 0 ? text.substring(start) : text.substring(start, end);
            Merge merge = pair(line.strip());
            if (merge == null) {
                throw ConfigException.at(source, "line " + (merges.size() + 2) + " must be two symbols, got "
                        + Messages.quote(line));
            }
            merges.add(merge);
        }
        return merges;
    }

    /**
     * {@code s.split("\\s+")} when that gives exactly two symbols, else null; {@code s} is stripped. Written out
     * because the regex allocates a matcher and a list per line, 49k lines at every tokenizer load.
     */
    static Merge pair(String s) {
        int gap = 0;
        while (gap < s.length() && !isRegexSpace(s.charAt(gap))) {
            gap++;
        }
        int second = gap;
        while (second < s.length() && isRegexSpace(s.charAt(second))) {
            second++;
        }
        if (gap == 0 || second == s.length()) {
            return null;
        }
        for (int i = second; i < s.length(); i++) {
            if (isRegexSpace(s.charAt(i))) {
                return null;
            }
        }
        return new Merge(s.substring(0, gap), s.substring(second));
    }

    /** Java regex {@code \s}: {@code [ \t\n\x0B\f\r]}. */
    private static boolean isRegexSpace(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == 0x0B || c == '\f' || c == '\r';
    }

}

package dev.mlinfra.engine.corpus;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns a source file into plain English documents: the prose of documentation comments or of
 * the description strings of generated API models, without markup, links, code or tags.
 */
enum TextExtractor {

    /** {@code @ApiModel(description = "...")} and {@code @ApiModelProperty(value = "...")} of Java sources. */
    SWAGGER_ANNOTATIONS("swagger-annotations") {
        @Override
        List<String> documents(String source) {
            List<String> out = new ArrayList<>();
            Matcher m = SWAGGER.matcher(source);
            while (m.find()) {
                out.add(clean(unescapeJava(m.group(1))));
            }
            return out;
        }
    },

    /** {@code /** ... * /} blocks of JavaScript or TypeScript: the description, {@code @description} and {@code @remarks}. */
    DOC_COMMENTS("doc-comments") {
        @Override
        List<String> documents(String source) {
            List<String> out = new ArrayList<>();
            for (int start = source.indexOf("/**"); start >= 0; start = source.indexOf("/**", start)) {
                int end = source.indexOf("*/", start + 3);
                if (end < 0) {
                    break;
                }
                String comment = source.substring(start + 3, end);
                start = end + 2;
                StringBuilder text = new StringBuilder();
                boolean prose = true;
                for (String raw : comment.split("\n")) {
                    String line = raw.strip();
                    if (line.startsWith("*")) {
                        line = line.substring(1).strip();
                    }
                    if (line.startsWith("@")) {
                        String tag = line.split("\\s", 2)[0];
                        prose = tag.equals("@description") || tag.equals("@remarks");
                        line = prose ? line.substring(tag.length()).strip() : "";
                    }
                    if (prose && !line.isEmpty()) {
                        text.append(line).append('\n');
                    }
                }
                out.add(clean(text.toString()));
            }
            return out;
        }
    };

    private static final Pattern SWAGGER = Pattern.compile(
            "@ApiModel(?:Property)?\\(\\s*(?:value|description)\\s*=\\s*\"((?:[^\"\\\\]++|\\\\.)*+)\"");
    private static final Pattern CODE_BLOCK = Pattern.compile("```[^`]*+```");
    private static final Pattern LINK_TAG = Pattern.compile("\\{@link(?:plain|code)?\\s+([^}|\\s]+)(?:[ |]([^}]*))?}");
    private static final Pattern MARKDOWN_LINK = Pattern.compile("\\[([^\\]]*)]\\([^)]*\\)");
    private static final Pattern HTML_TAG = Pattern.compile("</?[a-zA-Z][^>]*>");
    private static final Pattern URL = Pattern.compile("\\(?https?://\\S+");
    private static final Pattern SPACE = Pattern.compile("\\s+");

    final String id;

    TextExtractor(String id) {
        this.id = id;
    }

    abstract List<String> documents(String source);

    static TextExtractor of(String id) {
        for (TextExtractor e : values()) {
            if (e.id.equals(id)) {
                return e;
            }
        }
        throw new IllegalArgumentException("unknown extract type '" + id + "' (expected swagger-annotations or doc-comments)");
    }

    /** Markup, links, code blocks and URLs removed, entities decoded, white space collapsed. */
    static String clean(String text) {
        String t = CODE_BLOCK.matcher(text).replaceAll(" ");
        t = LINK_TAG.matcher(t).replaceAll(r -> Matcher.quoteReplacement(r.group(2) != null ? r.group(2) : r.group(1)));
        t = MARKDOWN_LINK.matcher(t).replaceAll(r -> Matcher.quoteReplacement(r.group(1)));
        t = HTML_TAG.matcher(t).replaceAll(" ");
        t = URL.matcher(t).replaceAll("");
        t = t.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'")
                .replace("&nbsp;", " ").replace("&amp;", "&").replace("`", "");
        return SPACE.matcher(t).replaceAll(" ").strip();
    }

    private static String unescapeJava(String s) {
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '\\' || i + 1 >= s.length()) {
                out.append(c);
                continue;
            }
            char n = s.charAt(++i);
            switch (n) {
                case 'n', 't', 'r' -> out.append(' ');
                case 'u' -> {
                    if (i + 4 < s.length()) {
                        out.append((char) Integer.parseInt(s.substring(i + 1, i + 5), 16));
                        i += 4;
                    }
                }
                default -> out.append(n);
            }
        }
        return out.toString();
    }
}

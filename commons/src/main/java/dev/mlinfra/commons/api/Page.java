package dev.mlinfra.commons.api;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The list envelope of the contract: {@code {"<items>": [...], "total", "limit", "offset"}},
 * where the name of the item list depends on the resource ({@code jobs}, {@code models}, ...).
 */
public final class Page<T> {

    /**
     * The OpenAPI extension a list endpoint names its item list with
     * ({@code @Extension(name = Page.ITEMS, value = "models")}); {@link PageSchemas} documents the
     * envelope with it, where the schema generator would describe this class's fields.
     */
    public static final String ITEMS = "x-mlinfra-items";

    private final String itemsName;
    private final List<T> items;
    private final long total;
    private final PageParams params;

    private Page(String itemsName, List<T> items, long total, PageParams params) {
        this.itemsName = itemsName;
        this.items = List.copyOf(items);
        this.total = total;
        this.params = params;
    }

    public static <T> Page<T> of(String itemsName, List<T> items, long total, PageParams params) {
        return new Page<>(itemsName, items, total, params);
    }

    public List<T> items() {
        return items;
    }

    public long total() {
        return total;
    }

    @JsonValue
    Map<String, Object> json() {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put(itemsName, items);
        out.put("total", total);
        out.put("limit", params.limit());
        out.put("offset", params.offset());
        return out;
    }
}

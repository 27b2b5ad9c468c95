package dev.mlinfra.commons.api;

import java.util.LinkedHashMap;
import java.util.Map;
import org.eclipse.microprofile.openapi.OASFactory;
import org.eclipse.microprofile.openapi.OASFilter;
import org.eclipse.microprofile.openapi.models.OpenAPI;
import org.eclipse.microprofile.openapi.models.Operation;
import org.eclipse.microprofile.openapi.models.media.MediaType;
import org.eclipse.microprofile.openapi.models.media.Schema;
import org.eclipse.microprofile.openapi.models.responses.APIResponse;

/**
 * Documents every {@link Page} answer as it is sent, {@code {"<items>": [...], "total", "limit",
 * "offset"}}, with the item list's name its endpoint gives in the {@link Page#ITEMS} extension
 * (the generator would describe the class's own fields, which never reach the wire).
 */
public class PageSchemas implements OASFilter {

    @Override
    public void filterOpenAPI(OpenAPI api) {
        if (api.getPaths() == null || api.getPaths().getPathItems() == null || api.getComponents() == null
                || api.getComponents().getSchemas() == null) {
            return;
        }
        Map<String, Schema> schemas = api.getComponents().getSchemas();
        api.getPaths().getPathItems().values().forEach(item -> {
            if (item.getOperations() != null) {
                item.getOperations().values().forEach(operation -> document(operation, schemas));
            }
        });
        if (schemas.containsKey("PageParams")) {
            api.getComponents().removeSchema("PageParams");
        }
    }

    private static void document(Operation operation, Map<String, Schema> schemas) {
        Object items = operation.getExtensions() == null ? null : operation.getExtensions().get(Page.ITEMS);
        if (items == null) {
            return;
        }
        operation.removeExtension(Page.ITEMS);
        APIResponse ok = operation.getResponses() == null ? null : operation.getResponses().getAPIResponse("200");
        MediaType json = ok == null || ok.getContent() == null ? null : ok.getContent().getMediaType("application/json");
        String ref = json == null || json.getSchema() == null ? null : json.getSchema().getRef();
        Schema page = ref == null ? null : schemas.get(ref.substring(ref.lastIndexOf('/') + 1));
        if (page == null || page.getProperties() == null || !page.getProperties().containsKey("items")) {
            return;
        }
        Map<String, Schema> properties = new LinkedHashMap<>();
        properties.put(items.toString(), page.getProperties().get("items"));
        properties.put("total", integer("how many match the filters, on all pages"));
        properties.put("limit", integer("the page size asked for"));
        properties.put("offset", integer("how many were skipped before this page"));
        page.setProperties(properties);
    }

    private static Schema integer(String description) {
        return OASFactory.createSchema().addType(Schema.SchemaType.INTEGER).description(description);
    }
}

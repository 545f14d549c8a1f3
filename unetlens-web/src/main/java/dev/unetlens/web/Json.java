package dev.unetlens.web;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.http.Context;

import java.io.IOException;
import java.io.UncheckedIOException;

/** JSON in and out of the server: one Jackson mapper, answers as {@code application/json} bytes. */
public final class Json {
    public static final ObjectMapper MAPPER = JsonMapper.builder().build();

    private Json() {
    }

    public static ObjectNode object() {
        return MAPPER.createObjectNode();
    }

    public static ArrayNode array() {
        return MAPPER.createArrayNode();
    }

    /** Answers {@code value} (a JsonNode, record, list or map) as JSON. */
    public static void send(Context ctx, Object value) {
        try {
            ctx.contentType("application/json; charset=utf-8").result(MAPPER.writeValueAsBytes(value));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The request body as JSON; a 400 if it is not. */
    public static JsonNode body(Context ctx) {
        try {
            JsonNode n = MAPPER.readTree(ctx.bodyAsBytes());
            if (n == null || n.isMissingNode()) {
                throw ApiError.badRequest("the request body must be JSON; it is empty");
            }
            return n;
        } catch (IOException e) {
            throw ApiError.badRequest("the request body is not valid JSON: " + dev.unetlens.Messages.line(e.getMessage()));
        }
    }
}

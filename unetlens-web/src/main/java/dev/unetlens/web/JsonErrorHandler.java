package dev.unetlens.web;

import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;

import java.nio.ByteBuffer;

/**
 * Jetty's own refusals (a request line it will not parse: an ambiguous {@code %2f} or {@code ..} in the path, bad
 * UTF-8, a header too large) as the same one-line JSON as the API's, instead of Jetty's HTML page.
 */
final class JsonErrorHandler extends ErrorHandler {
    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        int status = response.getStatus() >= 400 ? response.getStatus() : 400;
        Object m = request.getAttribute(ERROR_MESSAGE);
        String message = "the server refused the request: " + (m == null ? "status " + status
                : dev.unetlens.Messages.line(m.toString())) + " (paths may not hold '..', '%2f' or bad encodings)";
        byte[] body = Json.object().put("error", message).put("status", status).toString()
                .getBytes(java.nio.charset.StandardCharsets.UTF_8);
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json; charset=utf-8");
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
        response.write(true, ByteBuffer.wrap(body), callback);
        return true;
    }
}

package dev.unetlens.web;

import io.javalin.http.Context;
import io.javalin.http.HttpStatus;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Set;

/**
 * Access to the server, as Jupyter does it: a random token printed with the URL. The first visit carries it as
 * {@code ?token=}; the server answers with an HttpOnly, SameSite=Strict cookie and a redirect to the same page
 * without it, so the token leaves the address bar. Later requests carry the cookie, and scripts the header
 * {@value #HEADER} (or {@code Authorization: Bearer}). Tokens are compared in constant time.
 *
 * <p>On a loopback address the {@code Host} header must name a loopback host too, so that a page of another site
 * whose name was re-pointed at 127.0.0.1 (DNS rebinding) cannot talk to the server.
 */
public final class Auth {
    public static final String HEADER = "X-Unetlens-Token";
    private static final Set<String> LOOPBACK_NAMES = Set.of("localhost", "127.0.0.1", "[::1]", "::1");
    private final byte[] token;
    private final boolean loopback;

    public Auth(String token, String host) {
        this.token = token.getBytes(StandardCharsets.UTF_8);
        this.loopback = isLoopback(host);
    }

    /** A new random token: 24 random bytes as 48 hex digits. */
    public static String newToken() {
        byte[] b = new byte[24];
        new SecureRandom().nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    /** Whether {@code host} is a loopback address (127.0.0.0/8, ::1, localhost). */
    public static boolean isLoopback(String host) {
        if (LOOPBACK_NAMES.contains(host.toLowerCase(Locale.ROOT))) {
            return true;
        }
        try {
            return InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }

    /** The cookie's name: with the port, since browsers share cookies between the ports of one host. */
    static String cookieName(int port) {
        return "unetlens_token_" + port;
    }

    /** The before-handler of every request: a 401 (or, for a wrong Host, a 403) unless the request carries the token. */
    void check(Context ctx) {
        if (loopback && !loopbackHost(ctx.header("Host"))) {
            throw ApiError.forbidden("the Host header must name this machine (localhost or 127.0.0.1)");
        }
        String query = ctx.queryParam("token");
        if (query != null && matches(query)) {
            ctx.header("Set-Cookie", cookieName(ctx.port()) + "=" + new String(token, StandardCharsets.UTF_8)
                    + "; Path=/; HttpOnly; SameSite=Strict");
            if (ctx.method().name().equals("GET") && !ctx.path().startsWith("/api/")) {
                ctx.redirect(ctx.path(), HttpStatus.FOUND);             // drop the token from the address bar
                ctx.skipRemainingHandlers();
            }
            return;
        }
        String bearer = ctx.header("Authorization");
        if (matches(ctx.header(HEADER)) || matches(ctx.cookie(cookieName(ctx.port())))
                || bearer != null && bearer.startsWith("Bearer ") && matches(bearer.substring(7).strip())) {
            return;
        }
        throw new ApiError(401, "missing or wrong access token: open the URL that 'unetlens serve' printed (it ends"
                + " in ?token=…), or send the " + HEADER + " header", null);
    }

    private boolean matches(String given) {
        return given != null && MessageDigest.isEqual(token, given.getBytes(StandardCharsets.UTF_8));
    }

    private static boolean loopbackHost(String hostHeader) {
        if (hostHeader == null) {
            return false;
        }
        String h = hostHeader.strip().toLowerCase(Locale.ROOT);
        int colon = h.startsWith("[") ? h.indexOf("]:") + 1 : h.lastIndexOf(':');
        String name = colon > 0 ? h.substring(0, colon) : h;
        return LOOPBACK_NAMES.contains(name) || name.startsWith("127.") && name.matches("127(\\.\\d{1,3}){3}");
    }
}

package dev.unetlens.web;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A small least-recently-used cache shared by the request threads, for results that are costly to make again (maps
 * averaged over noise draws, heat maps over many steps). Values are computed outside it: two requests for the same
 * key may both compute it, and the second's is kept.
 */
public final class Lru<K, V> {
    private final Map<K, V> map;

    public Lru(int capacity) {
        this.map = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<K, V> e) {
                return size() > capacity;
            }
        };
    }

    /** The value kept for key, or null. */
    public synchronized V get(K key) {
        return map.get(key);
    }

    public synchronized void put(K key, V value) {
        map.put(key, value);
    }
}

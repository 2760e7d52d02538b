/** Run configurations: records bound from defaults, YAML and key=value overrides. */
package dev.align.core.config;

/**
 * GRPO ({@code align grpo}): group-relative policy optimisation with verifiable (rule) rewards and/or a
 * reward model — the recipe, its keys, and the demo step.
 */
package dev.align.po.grpo;

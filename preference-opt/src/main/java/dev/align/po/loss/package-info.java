/** Preference-optimisation objectives (DPO and its family), one class each, over sequence log-probs. */
package dev.align.po.loss;

/** Align's core: engine start-up and the errors every module reports to users. */
package dev.align.core;

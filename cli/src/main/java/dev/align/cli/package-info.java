/** The align command line. */
package dev.align.cli;

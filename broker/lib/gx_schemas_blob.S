/* The Avro schemas of schemas/*.avsc, built into libgovex (see gx_schema.c).
 * Each is NUL-terminated so it can be used as a C string. */
	.section .rodata
	.global gx_schema_population_avsc
gx_schema_population_avsc:
	.incbin "schemas/population.avsc"
	.byte 0
	.section .note.GNU-stack,"",@progbits

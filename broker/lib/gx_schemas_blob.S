/* The Avro schemas of schemas/*.avsc, built into libgovex (see gx_schema.c).
 * Each is NUL-terminated so it can be used as a C string. */
	.section .rodata
	.global gx_schema_population_avsc
gx_schema_population_avsc:
	.incbin "schemas/population.avsc"
	.byte 0
	.global gx_schema_legal_entity_avsc
gx_schema_legal_entity_avsc:
	.incbin "schemas/legal_entity.avsc"
	.byte 0
	.global gx_schema_public_credit_avsc
gx_schema_public_credit_avsc:
	.incbin "schemas/public_credit.avsc"
	.byte 0
	.global gx_schema_macroeconomy_avsc
gx_schema_macroeconomy_avsc:
	.incbin "schemas/macroeconomy.avsc"
	.byte 0
	.global gx_schema_geospatial_avsc
gx_schema_geospatial_avsc:
	.incbin "schemas/geospatial.avsc"
	.byte 0
	.global gx_schema_e_licence_avsc
gx_schema_e_licence_avsc:
	.incbin "schemas/e_licence.avsc"
	.byte 0
	.section .note.GNU-stack,"",@progbits

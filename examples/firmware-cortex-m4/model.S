/*
 * Embeds the weight file AMBIENT_MODEL_PATH (a string macro the build defines) in flash,
 * in the section .model, between the symbols ambient_model_data and ambient_model_end.
 */

    .section .model, "a"
    .balign 16
    .global ambient_model_data
ambient_model_data:
    .incbin AMBIENT_MODEL_PATH
    .global ambient_model_end
ambient_model_end:

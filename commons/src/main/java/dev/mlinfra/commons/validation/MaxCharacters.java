package dev.mlinfra.commons.validation;

import jakarta.validation.Constraint;
import jakarta.validation.ConstraintValidator;
import jakarta.validation.ConstraintValidatorContext;
import jakarta.validation.Payload;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * A text of at most {@link #value()} characters as a person counts them (Unicode code points), where
 * {@code @Size} counts UTF-16 units and would refuse 2,000 emoji as 4,000. Null is valid.
 */
@Target({ElementType.FIELD, ElementType.PARAMETER, ElementType.RECORD_COMPONENT, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@Constraint(validatedBy = MaxCharacters.Check.class)
public @interface MaxCharacters {

    int value();

    String message() default "must be at most {value} characters";

    Class<?>[] groups() default {};

    Class<? extends Payload>[] payload() default {};

    /** Counts code points, and only as far as the limit. */
    class Check implements ConstraintValidator<MaxCharacters, CharSequence> {

        private int max;

        @Override
        public void initialize(MaxCharacters annotation) {
            this.max = annotation.value();
        }

        @Override
        public boolean isValid(CharSequence text, ConstraintValidatorContext context) {
            if (text == null || text.length() <= max) {
                return true;
            }
            // more UTF-16 units than the limit: fewer code points only where surrogate pairs make up the difference
            return Character.codePointCount(text, 0, text.length()) <= max;
        }
    }
}
